package io.edge.fastcgi.codec;

import java.util.List;

/** GET_VALUES: asks the application for variables such as FCGI_MPXS_CONNS (values sent empty). */
public record FcgiGetValues(List<String> names) implements FcgiMessage {

    public FcgiGetValues {
        names = List.copyOf(names);
    }

    @Override
    public FcgiRecordType type() {
        return FcgiRecordType.GET_VALUES;
    }

    @Override
    public int requestId() {
        return 0;
    }
}
