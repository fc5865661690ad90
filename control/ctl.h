/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket: JSON-RPC 2.0 over a unix stream socket, for sprctl.
 *
 * Framing: one JSON request (or batch array) per line, one response line per
 * request that has an id; notifications (no id) get none. A line is at most
 * SPR_CTL_REQUEST_MAX bytes; a longer one gets an "invalid request" error and
 * the connection is closed. At most SPR_CTL_CLIENTS connections; one more is
 * sent an error line and closed.
 *
 * Streams: a client that calls "<stream>.follow" (e.g. "events.follow") then
 * receives every spr_ctl_broadcast of that stream as a notification line
 * {"jsonrpc":"2.0","method":"event","params":EVENT}. A follower more than
 * SPR_CTL_STREAM_BACKLOG bytes behind is disconnected and counted.
 *
 * Nothing here blocks: sockets are non-blocking and spr_ctl_poll polls with a
 * zero timeout. Context: one thread (the control thread) owns a struct
 * spr_ctl; handlers run on that thread, inside spr_ctl_poll.
 */
#ifndef SPR_CTL_H
#define SPR_CTL_H

#include <stdint.h>

#include <jansson.h>

#define SPR_CTL_DEFAULT_PATH "/run/sprd/sprd.sock"
#define SPR_CTL_REQUEST_MAX (64u * 1024)     /* bytes of a request line, without its newline */
#define SPR_CTL_CLIENTS 16u		     /* connections served at once */
#define SPR_CTL_STREAM_BACKLOG (256u * 1024) /* unsent bytes a follower may have */
#define SPR_CTL_METHODS 64u
#define SPR_CTL_STREAMS 8u
#define SPR_CTL_NAME_MAX 64u /* bytes of a method or stream name, with its NUL */

/* JSON-RPC 2.0 error codes; -32000 to -32099 are ours. */
#define SPR_CTL_PARSE_ERROR (-32700)
#define SPR_CTL_INVALID_REQUEST (-32600)
#define SPR_CTL_METHOD_NOT_FOUND (-32601)
#define SPR_CTL_INVALID_PARAMS (-32602)
#define SPR_CTL_INTERNAL_ERROR (-32603)
#define SPR_CTL_SERVER_ERROR (-32000) /* generic failure of a handler */
#define SPR_CTL_NOT_FOUND (-32001)    /* the object named in params does not exist */
#define SPR_CTL_BUSY (-32002)	      /* too many clients */

struct spr_ctl_error {
	int code;
	char message[256];
};

/* Set err's code and printf-formatted message (truncated to fit). */
void spr_ctl_error_set(struct spr_ctl_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * A method. params is the request's params (object or array; an empty object
 * when absent), borrowed. Returns a new reference to the result, or NULL
 * with err set (err->code 0 becomes SPR_CTL_INTERNAL_ERROR). Strings in
 * params may hold NUL bytes: use json_string_length.
 */
typedef json_t *(*spr_ctl_handler)(void *arg, json_t *params, struct spr_ctl_error *err);

struct spr_ctl_stats {
	uint32_t clients;   /* connected now */
	uint32_t followers; /* of those, following a stream */
	uint64_t accepted;
	uint64_t refused;    /* over SPR_CTL_CLIENTS */
	uint64_t requests;   /* calls and notifications handled */
	uint64_t errors;     /* error responses sent */
	uint64_t oversize;   /* connections closed for a request over SPR_CTL_REQUEST_MAX */
	uint64_t events;     /* notification lines queued to followers */
	uint64_t slow_drops; /* followers disconnected for falling behind */
};

struct spr_ctl;

/*
 * Listen on path (mode 0660), creating its missing parent directories (0750).
 * A socket file there that nothing listens on is removed first.
 * Returns the server, or NULL with *err set: -EADDRINUSE when a live server
 * listens on path, -EEXIST when path exists and is not a socket,
 * -ENAMETOOLONG when path does not fit a unix socket address, or the -errno
 * of the failing call.
 */
struct spr_ctl *spr_ctl_open(const char *path, int *err);

/* Close every connection, remove the socket file, free ctl (NULL is fine). */
void spr_ctl_close(struct spr_ctl *ctl);

/*
 * Add a method. name is copied. Returns 0, -EEXIST (taken, also by a
 * stream's ".follow"), -ENOSPC (SPR_CTL_METHODS reached) or -EINVAL (empty
 * or too long).
 */
int spr_ctl_register(struct spr_ctl *ctl, const char *name, spr_ctl_handler fn, void *arg);

/*
 * Add a stream and its method "<name>.follow". Returns 0, -EEXIST, -ENOSPC
 * (SPR_CTL_STREAMS or SPR_CTL_METHODS reached) or -EINVAL.
 */
int spr_ctl_register_stream(struct spr_ctl *ctl, const char *name);

/*
 * Accept pending connections, send pending output, read and serve up to
 * budget requests (a batch counts as one). Never blocks.
 * Returns the number of requests served, or -errno when poll fails.
 */
int spr_ctl_poll(struct spr_ctl *ctl, uint32_t budget);

/*
 * Queue event (borrowed) to every follower of stream and send what the
 * sockets take now; followers too far behind are disconnected.
 * Returns the number of followers it was queued to, -ENOENT for an unknown
 * stream, -ENOMEM or -EINVAL when event cannot be serialised.
 */
int spr_ctl_broadcast(struct spr_ctl *ctl, const char *stream, json_t *event);

/* Counters. */
void spr_ctl_stats_get(const struct spr_ctl *ctl, struct spr_ctl_stats *st);

#endif /* SPR_CTL_H */
