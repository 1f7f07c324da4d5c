package io.edge.conf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The configuration files the conf tests load: {@code edge { body }} as {@code dir/edge.conf}, beside a document root
 * {@code dir/www} their sites name.
 */
final class EdgeConfFile {

    private EdgeConfFile() {
    }

    /** Writes {@code edge {\n body \n}} to {@code dir/edge.conf} and returns that file; makes {@code dir/www}. */
    static Path write(Path dir, String body) throws IOException {
        Files.createDirectories(dir.resolve("www"));
        Path file = dir.resolve("edge.conf");
        Files.writeString(file, "edge {\n" + body + "\n}\n");
        return file;
    }

    /** Loads {@code edge { body }} as {@link #write} writes it. */
    static EdgeSettings load(Path dir, String body) throws IOException, ConfigException {
        return new ConfigLoader().load(write(dir, body));
    }
}
