package io.edge.aio;

/**
 * What a site allows when a request path is mapped onto its root.
 *
 * @param allowDotfiles   whether a path segment starting with '.' may be served (".well-known" is always allowed)
 * @param followSymlinks  whether symbolic links are followed at all
 * @param symlinksMayLeaveRoot whether a followed link may point outside the root
 */
public record PathPolicy(boolean allowDotfiles, boolean followSymlinks, boolean symlinksMayLeaveRoot) {

    /** The safe default: no dotfiles, links followed only while they stay inside the root. */
    public static final PathPolicy DEFAULT = new PathPolicy(false, true, false);
}
