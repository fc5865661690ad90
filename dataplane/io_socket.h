/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The socket backend (DESIGN §3): per worker, one non-blocking UDP socket
 * per listen address, all workers' sockets bound with SO_REUSEPORT so the
 * kernel spreads datagrams by flow. Payloads live in mbufs from the worker's
 * mempool, like the dpdk backend's, so the pipeline above is the same.
 */
#ifndef SPR_IO_SOCKET_H
#define SPR_IO_SOCKET_H

#include "io.h"

/*
 * Open this worker's sockets on every address of ours (SO_REUSEPORT, except
 * on an address with port 0: a socket of its own on a port the kernel picks). Returns the io, or
 * NULL with *err set to a negative errno (bind failures name the address in
 * errbuf). Context: start-up, any thread.
 */
struct spr_io *spr_io_socket_create(const struct spr_io_addrs *ours, struct rte_mempool *pool,
				    int *err, char *errbuf, uint32_t errlen);

#endif /* SPR_IO_SOCKET_H */
