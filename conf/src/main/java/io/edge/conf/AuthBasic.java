package io.edge.conf;

import java.nio.file.Path;

/**
 * A location's {@code auth-basic}, nginx's {@code auth_basic} and {@code auth_basic_user_file}: a request without a
 * user and password of {@code userFile} gets 401 and {@code WWW-Authenticate: Basic realm="..."}.
 *
 * @param realm    the realm browsers show in their password prompt
 * @param userFile the htpasswd file, absolute
 * @param users    the file as read when the configuration was loaded (edge reads it again when it changes)
 */
public record AuthBasic(String realm, Path userFile, Htpasswd users) {
}
