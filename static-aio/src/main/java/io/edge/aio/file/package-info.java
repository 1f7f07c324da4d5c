/**
 * Open-file cache, descriptor budget and the engines that turn open files into messages Netty can write:
 * {@link io.edge.aio.file.FileEngines} picks one of sendfile, threads, io_uring and linux-aio-sendfile.
 */
package io.edge.aio.file;
