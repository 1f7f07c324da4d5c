/** Linux system calls through JNA direct mapping: io_uring rings, eventfd, open and close of raw descriptors. */
package io.edge.aio.linux;
