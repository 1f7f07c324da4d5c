package io.edge.core.http;

/**
 * A request's body a responder read whole and kept (its spool, memory or a temporary file), which the location a
 * backend's X-Accel-Redirect hands the request to sends again ({@link Exchange#keepBody}).
 */
public interface WholeBody {

    /** Its bytes. */
    long length();
}
