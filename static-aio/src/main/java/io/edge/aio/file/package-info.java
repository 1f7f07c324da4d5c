/**
 * Open-file cache, descriptor budget and the engines that turn open files into messages Netty can write:
 * {@link io.edge.aio.file.FileEngines} picks one of sendfile, threads and io_uring.
 */
package io.edge.aio.file;
