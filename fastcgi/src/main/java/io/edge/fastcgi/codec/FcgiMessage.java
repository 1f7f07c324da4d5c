package io.edge.fastcgi.codec;

/** One decoded FastCGI record, or one stream payload to encode (possibly as several records). */
public interface FcgiMessage {

    FcgiRecordType type();

    int requestId();
}
