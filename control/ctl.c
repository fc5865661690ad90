/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket: JSON-RPC 2.0 (https://www.jsonrpc.org/specification)
 * over newline-delimited lines on a unix stream socket. A connection's
 * input is read only while it holds no complete line, so at most one
 * request line (SPR_CTL_REQUEST_MAX) is buffered per client; its output
 * grows as responses need and is bounded for stream followers.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"

#define CTL_LISTEN_BACKLOG 16
#define CTL_OUT_HIGH (256u * 1024) /* unsent bytes above which a client's requests wait */
#define CTL_OUT_KEEP (64u * 1024)  /* output buffer kept between responses */
#define CTL_DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

struct ctl_method {
	char name[SPR_CTL_NAME_MAX];
	spr_ctl_handler fn;
	void *arg;
	int stream; /* >= 0: this is "<stream>.follow" */
};

struct ctl_client {
	int fd;		  /* -1: slot free */
	uint32_t follows; /* bit per stream */
	bool eof;	  /* the peer will send nothing more */
	bool closing;	  /* close once the output is sent */
	uint32_t rstart;  /* unconsumed input is rbuf[rstart, rlen) */
	uint32_t rlen;
	char *wbuf; /* unsent output is wbuf[woff, wlen) */
	size_t woff;
	size_t wlen;
	size_t wcap;
	char rbuf[SPR_CTL_REQUEST_MAX + 1];
};

struct spr_ctl {
	int lfd;
	dev_t dev; /* of the socket file we bound, to remove only ours */
	ino_t ino;
	uint32_t n_methods;
	uint32_t n_streams;
	uint32_t next; /* client served first in the next poll */
	struct spr_ctl_stats st;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char streams[SPR_CTL_STREAMS][SPR_CTL_NAME_MAX];
	struct ctl_method methods[SPR_CTL_METHODS];
	struct ctl_client c[SPR_CTL_CLIENTS];
};

void
spr_ctl_error_set(struct spr_ctl_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

/* Create the directories above path that are missing. */
static int
ctl_mkdirs(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	size_t len = strlen(path);

	memcpy(dir, path, len + 1);
	for (size_t i = 1; i < len; i++) {
		if (dir[i] != '/')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0750) != 0 && errno != EEXIST)
			return -errno;
		dir[i] = '/';
	}
	return 0;
}

/* A socket file at addr: -EADDRINUSE when something listens on it, else removed. */
static int
ctl_clear_stale(const struct sockaddr_un *addr)
{
	struct stat sb;
	int fd, rc;

	if (lstat(addr->sun_path, &sb) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(sb.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0 ? 0 : errno;
	close(fd);
	if (rc == 0 || rc == EAGAIN || rc == EINPROGRESS)
		return -EADDRINUSE;
	if (rc != ECONNREFUSED)
		return -rc;
	if (unlink(addr->sun_path) != 0 && errno != ENOENT)
		return -errno;
	return 0;
}

struct spr_ctl *
spr_ctl_open(const char *path, int *err)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	struct spr_ctl *ctl;
	struct stat sb;
	int rc;

	if (len == 0) {
		rc = -EINVAL;
		goto err;
	}
	if (len >= sizeof(addr.sun_path)) {
		rc = -ENAMETOOLONG;
		goto err;
	}
	memcpy(addr.sun_path, path, len + 1);
	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL) {
		rc = -ENOMEM;
		goto err;
	}
	memcpy(ctl->path, path, len + 1);
	for (uint32_t i = 0; i < SPR_CTL_CLIENTS; i++)
		ctl->c[i].fd = -1;
	if ((rc = ctl_mkdirs(path)) != 0)
		goto err_free;
	if ((rc = ctl_clear_stale(&addr)) != 0)
		goto err_free;
	ctl->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->lfd < 0) {
		rc = -errno;
		goto err_free;
	}
	if (bind(ctl->lfd, (const struct sockaddr *)&addr, sizeof(addr)) != 0) {
		rc = -errno;
		goto err_close;
	}
	/* Nobody can connect before listen, so the mode is right before anyone does. */
	if (chmod(path, 0660) != 0 || stat(path, &sb) != 0) {
		rc = -errno;
		goto err_unlink;
	}
	ctl->dev = sb.st_dev;
	ctl->ino = sb.st_ino;
	if (listen(ctl->lfd, CTL_LISTEN_BACKLOG) != 0) {
		rc = -errno;
		goto err_unlink;
	}
	return ctl;

err_unlink:
	unlink(path);
err_close:
	close(ctl->lfd);
err_free:
	free(ctl);
err:
	*err = rc;
	return NULL;
}

static void
ctl_drop(struct spr_ctl *ctl, struct ctl_client *c)
{
	close(c->fd);
	free(c->wbuf);
	c->fd = -1;
	c->follows = 0;
	c->eof = false;
	c->closing = false;
	c->rstart = 0;
	c->rlen = 0;
	c->wbuf = NULL;
	c->woff = 0;
	c->wlen = 0;
	c->wcap = 0;
	ctl->st.clients--;
}

void
spr_ctl_close(struct spr_ctl *ctl)
{
	struct stat sb;

	if (ctl == NULL)
		return;
	for (uint32_t i = 0; i < SPR_CTL_CLIENTS; i++)
		if (ctl->c[i].fd >= 0)
			ctl_drop(ctl, &ctl->c[i]);
	close(ctl->lfd);
	if (stat(ctl->path, &sb) == 0 && sb.st_dev == ctl->dev && sb.st_ino == ctl->ino)
		unlink(ctl->path);
	free(ctl);
}

static int
ctl_add_method(struct spr_ctl *ctl, const char *name, spr_ctl_handler fn, void *arg, int stream)
{
	size_t len = strlen(name);
	struct ctl_method *m;

	if (len == 0 || len >= SPR_CTL_NAME_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < ctl->n_methods; i++)
		if (strcmp(ctl->methods[i].name, name) == 0)
			return -EEXIST;
	if (ctl->n_methods == SPR_CTL_METHODS)
		return -ENOSPC;
	m = &ctl->methods[ctl->n_methods++];
	memcpy(m->name, name, len + 1);
	m->fn = fn;
	m->arg = arg;
	m->stream = stream;
	return 0;
}

int
spr_ctl_register(struct spr_ctl *ctl, const char *name, spr_ctl_handler fn, void *arg)
{
	if (fn == NULL)
		return -EINVAL;
	return ctl_add_method(ctl, name, fn, arg, -1);
}

int
spr_ctl_register_stream(struct spr_ctl *ctl, const char *name)
{
	static const char suffix[] = ".follow";
	char follow[SPR_CTL_NAME_MAX];
	size_t len = strlen(name);
	int rc;

	if (len == 0 || len + sizeof(suffix) > SPR_CTL_NAME_MAX)
		return -EINVAL;
	for (uint32_t i = 0; i < ctl->n_streams; i++)
		if (strcmp(ctl->streams[i], name) == 0)
			return -EEXIST;
	if (ctl->n_streams == SPR_CTL_STREAMS)
		return -ENOSPC;
	memcpy(follow, name, len);
	memcpy(follow + len, suffix, sizeof(suffix));
	if ((rc = ctl_add_method(ctl, follow, NULL, NULL, (int)ctl->n_streams)) != 0)
		return rc;
	memcpy(ctl->streams[ctl->n_streams++], name, len + 1);
	return 0;
}

/* Send what the socket takes now. Returns 0, or -errno when the connection is dead. */
static int
ctl_flush(struct ctl_client *c)
{
	while (c->woff < c->wlen) {
		ssize_t n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			c->woff += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		return n < 0 ? -errno : -EPIPE;
	}
	c->woff = 0;
	c->wlen = 0;
	if (c->wcap > CTL_OUT_KEEP) {
		free(c->wbuf);
		c->wbuf = NULL;
		c->wcap = 0;
	}
	return 0;
}

/* Queue s and a newline. Returns 0 or -ENOMEM. */
static int
ctl_queue_line(struct ctl_client *c, const char *s, size_t len)
{
	size_t need = len + 1;

	if (c->wlen + need > c->wcap && c->woff > 0) {
		memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
		c->wlen -= c->woff;
		c->woff = 0;
	}
	if (c->wlen + need > c->wcap) {
		size_t cap = c->wcap ? c->wcap : 4096;
		char *p;

		while (cap < c->wlen + need)
			cap *= 2;
		if ((p = realloc(c->wbuf, cap)) == NULL)
			return -ENOMEM;
		c->wbuf = p;
		c->wcap = cap;
	}
	memcpy(c->wbuf + c->wlen, s, len);
	c->wbuf[c->wlen + len] = '\n';
	c->wlen += need;
	return 0;
}

static json_t *
ctl_error_response(json_t *id, int code, const char *message)
{
	return json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id ? id : json_null(),
			 "error", "code", code, "message", message);
}

/* Queue a response (stolen) and send what the socket takes. */
static void
ctl_respond(struct spr_ctl *ctl, struct ctl_client *c, json_t *resp)
{
	char *s;

	if (resp == NULL)
		return;
	s = json_dumps(resp, CTL_DUMP_FLAGS);
	if (s == NULL) {
		/* a handler's result that is not serialisable (not UTF-8) */
		json_t *e = ctl_error_response(json_object_get(resp, "id"), SPR_CTL_INTERNAL_ERROR,
					       "result cannot be serialised");

		s = e ? json_dumps(e, CTL_DUMP_FLAGS) : NULL;
		json_decref(e);
		ctl->st.errors++;
	} else if (json_object_get(resp, "error") != NULL) {
		ctl->st.errors++;
	}
	json_decref(resp);
	if (s == NULL || ctl_queue_line(c, s, strlen(s)) != 0 || ctl_flush(c) != 0)
		c->closing = true;
	free(s);
}

static const struct ctl_method *
ctl_find(const struct spr_ctl *ctl, const char *name)
{
	for (uint32_t i = 0; i < ctl->n_methods; i++)
		if (strcmp(ctl->methods[i].name, name) == 0)
			return &ctl->methods[i];
	return NULL;
}

/* One request object: the response to send, or NULL for a notification. */
static json_t *
ctl_call(struct spr_ctl *ctl, struct ctl_client *c, json_t *req)
{
	struct spr_ctl_error err = {0};
	const struct ctl_method *m;
	json_t *id, *params, *result, *ver, *method;
	bool notification;

	if (!json_is_object(req))
		return ctl_error_response(NULL, SPR_CTL_INVALID_REQUEST,
					  "request is not an object");
	id = json_object_get(req, "id");
	notification = id == NULL;
	if (id != NULL && !json_is_string(id) && !json_is_number(id) && !json_is_null(id))
		return ctl_error_response(NULL, SPR_CTL_INVALID_REQUEST, "invalid id");
	ver = json_object_get(req, "jsonrpc");
	method = json_object_get(req, "method");
	params = json_object_get(req, "params");
	if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0)
		return ctl_error_response(id, SPR_CTL_INVALID_REQUEST, "jsonrpc must be \"2.0\"");
	if (!json_is_string(method))
		return ctl_error_response(id, SPR_CTL_INVALID_REQUEST, "method must be a string");
	if (params != NULL && !json_is_object(params) && !json_is_array(params))
		return ctl_error_response(id, SPR_CTL_INVALID_REQUEST,
					  "params must be an object or an array");
	ctl->st.requests++;
	m = ctl_find(ctl, json_string_value(method));
	if (m == NULL) {
		if (notification)
			return NULL;
		spr_ctl_error_set(&err, SPR_CTL_METHOD_NOT_FOUND, "method not found: %s",
				  json_string_value(method));
		return ctl_error_response(id, err.code, err.message);
	}
	if (m->stream >= 0) {
		if (c->fd >= 0)
			c->follows |= 1u << m->stream;
		result = json_pack("{s:s}", "stream", ctl->streams[m->stream]);
	} else if (params != NULL) {
		result = m->fn(m->arg, params, &err);
	} else {
		json_t *empty = json_object();

		result = empty ? m->fn(m->arg, empty, &err) : NULL;
		json_decref(empty);
	}
	if (notification) {
		json_decref(result);
		return NULL;
	}
	if (result == NULL) {
		if (err.code == 0)
			spr_ctl_error_set(&err, SPR_CTL_INTERNAL_ERROR, "%s failed", m->name);
		return ctl_error_response(id, err.code, err.message);
	}
	return json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id", id, "result", result);
}

/* One line of input: a request or a batch. */
static void
ctl_line(struct spr_ctl *ctl, struct ctl_client *c, const char *line, size_t len)
{
	json_error_t jerr;
	json_t *req, *resp;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return;
	req = json_loadb(line, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES,
			 &jerr);
	if (req == NULL) {
		char msg[sizeof(jerr.text) + 32];

		snprintf(msg, sizeof(msg), "parse error: %s", jerr.text);
		ctl_respond(ctl, c, ctl_error_response(NULL, SPR_CTL_PARSE_ERROR, msg));
		return;
	}
	if (!json_is_array(req)) {
		resp = ctl_call(ctl, c, req);
	} else if (json_array_size(req) == 0) {
		resp = ctl_error_response(NULL, SPR_CTL_INVALID_REQUEST, "empty batch");
	} else {
		size_t i;
		json_t *r;

		resp = json_array();
		json_array_foreach(req, i, r)
		{
			json_t *one = ctl_call(ctl, c, r);

			if (one != NULL && resp != NULL)
				json_array_append_new(resp, one);
			else
				json_decref(one);
		}
		if (resp != NULL && json_array_size(resp) == 0) {
			json_decref(resp);
			resp = NULL;
		}
	}
	json_decref(req);
	if (c->fd >= 0)
		ctl_respond(ctl, c, resp);
	else
		json_decref(resp);
}

/*
 * The next line of input: its length (without the newline) in *len, and the
 * bytes it takes in *used; at end of input, the unterminated rest counts.
 */
static bool
ctl_next_line(const struct ctl_client *c, size_t *len, size_t *used)
{
	const char *p = c->rbuf + c->rstart;
	size_t n = c->rlen - c->rstart;
	const char *nl = memchr(p, '\n', n);

	if (nl != NULL) {
		*len = (size_t)(nl - p);
		*used = *len + 1;
		return true;
	}
	if (c->eof && n > 0) {
		*len = n;
		*used = n;
		return true;
	}
	return false;
}

/* Serve c's complete lines within budget; read more only when none is left. */
static uint32_t
ctl_serve(struct spr_ctl *ctl, struct ctl_client *c, bool readable, uint32_t budget)
{
	uint32_t served = 0;

	for (;;) {
		size_t len, used;
		ssize_t n;

		if (c->closing || c->fd < 0)
			break;
		if (ctl_next_line(c, &len, &used)) {
			if (served == budget || c->wlen - c->woff > CTL_OUT_HIGH)
				break;
			c->rstart += (uint32_t)used;
			ctl_line(ctl, c, c->rbuf + c->rstart - used, len);
			served++;
			continue;
		}
		if (c->eof || !readable)
			break;
		if (c->rstart > 0) {
			memmove(c->rbuf, c->rbuf + c->rstart, c->rlen - c->rstart);
			c->rlen -= c->rstart;
			c->rstart = 0;
		}
		if (c->rlen == sizeof(c->rbuf)) {
			ctl->st.oversize++;
			c->rlen = 0;
			ctl_respond(ctl, c,
				    ctl_error_response(NULL, SPR_CTL_INVALID_REQUEST,
						       "request line over 65536 bytes"));
			c->closing = true;
			break;
		}
		n = recv(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen, MSG_DONTWAIT);
		if (n > 0) {
			c->rlen += (uint32_t)n;
		} else if (n == 0) {
			c->eof = true;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			readable = false;
		} else if (errno != EINTR) {
			/* the connection is dead: nothing more to send either */
			c->closing = true;
			c->woff = 0;
			c->wlen = 0;
		}
	}
	return served;
}

static void
ctl_accept(struct spr_ctl *ctl)
{
	static const char busy[] = "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32002,"
				   "\"message\":\"too many control clients\"}}\n";

	for (;;) {
		int fd = accept4(ctl->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ctl_client *c = NULL;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		for (uint32_t i = 0; i < SPR_CTL_CLIENTS && c == NULL; i++)
			if (ctl->c[i].fd < 0)
				c = &ctl->c[i];
		if (c == NULL) {
			ctl->st.refused++;
			/* best effort: the client may be gone already */
			send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		c->fd = fd;
		ctl->st.clients++;
		ctl->st.accepted++;
	}
}

int
spr_ctl_poll(struct spr_ctl *ctl, uint32_t budget)
{
	struct pollfd pfd[1 + SPR_CTL_CLIENTS];
	struct ctl_client *pc[1 + SPR_CTL_CLIENTS];
	uint32_t n = 1, served = 0;

	pfd[0] = (struct pollfd){.fd = ctl->lfd, .events = POLLIN};
	for (uint32_t k = 0; k < SPR_CTL_CLIENTS; k++) {
		struct ctl_client *c = &ctl->c[(ctl->next + k) % SPR_CTL_CLIENTS];
		short ev = 0;

		if (c->fd < 0)
			continue;
		if (!c->eof && !c->closing)
			ev |= POLLIN;
		if (c->woff < c->wlen)
			ev |= POLLOUT;
		pc[n] = c;
		pfd[n++] = (struct pollfd){.fd = c->fd, .events = ev};
	}
	ctl->next = (ctl->next + 1) % SPR_CTL_CLIENTS;
	if (poll(pfd, n, 0) < 0)
		return errno == EINTR ? 0 : -errno;

	for (uint32_t k = 1; k < n; k++) {
		struct ctl_client *c = pc[k];
		short rev = pfd[k].revents;

		if ((rev & POLLNVAL) || ((rev & POLLERR) && !(rev & POLLIN))) {
			ctl_drop(ctl, c);
			continue;
		}
		if ((rev & POLLOUT) && ctl_flush(c) != 0) {
			ctl_drop(ctl, c);
			continue;
		}
		served += ctl_serve(ctl, c, rev & (POLLIN | POLLHUP), budget - served);
		if (c->fd < 0)
			continue;
		if (c->closing || c->eof) {
			size_t len, used;

			if (c->closing)
				c->rlen = c->rstart = 0;
			if (ctl_flush(c) != 0 ||
			    (c->woff == c->wlen && !ctl_next_line(c, &len, &used)))
				ctl_drop(ctl, c);
		}
	}
	if (pfd[0].revents & POLLIN)
		ctl_accept(ctl);
	return (int)served;
}

int
spr_ctl_broadcast(struct spr_ctl *ctl, const char *stream, json_t *event)
{
	uint32_t bit = 0, sent = 0;
	json_t *note;
	size_t len;
	char *s;

	for (uint32_t i = 0; i < ctl->n_streams && bit == 0; i++)
		if (strcmp(ctl->streams[i], stream) == 0)
			bit = 1u << i;
	if (bit == 0)
		return -ENOENT;
	if (event == NULL)
		return -EINVAL;
	note = json_pack("{s:s, s:s, s:O}", "jsonrpc", "2.0", "method", "event", "params", event);
	if (note == NULL)
		return -ENOMEM;
	s = json_dumps(note, CTL_DUMP_FLAGS);
	json_decref(note);
	if (s == NULL)
		return -EINVAL;
	len = strlen(s);
	for (uint32_t i = 0; i < SPR_CTL_CLIENTS; i++) {
		struct ctl_client *c = &ctl->c[i];

		if (c->fd < 0 || c->closing || !(c->follows & bit))
			continue;
		if (c->wlen - c->woff + len + 1 > SPR_CTL_STREAM_BACKLOG) {
			ctl->st.slow_drops++;
			ctl_drop(ctl, c);
			continue;
		}
		if (ctl_queue_line(c, s, len) != 0 || ctl_flush(c) != 0) {
			ctl_drop(ctl, c);
			continue;
		}
		ctl->st.events++;
		sent++;
	}
	free(s);
	return (int)sent;
}

void
spr_ctl_stats_get(const struct spr_ctl *ctl, struct spr_ctl_stats *st)
{
	*st = ctl->st;
	st->followers = 0;
	for (uint32_t i = 0; i < SPR_CTL_CLIENTS; i++)
		if (ctl->c[i].fd >= 0 && ctl->c[i].follows != 0)
			st->followers++;
}
