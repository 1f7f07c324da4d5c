/** Open-file cache, descriptor budget and the engines that turn open files into messages Netty can write. */
package io.edge.aio.file;
