/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket, on a real unix socket in a temporary directory; the
 * clients are plain sockets in this thread, and the test drives spr_ctl_poll.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "ctl.h"

#define WAIT_ROUNDS 3000 /* of 1 ms */

struct fixture {
	char dir[64];
	char path[128];
	struct spr_ctl *ctl;
};

static json_t *
h_echo(void *arg, json_t *params, struct spr_ctl_error *err)
{
	return json_pack("{s:O}", "params", params);
}

static json_t *
h_add(void *arg, json_t *params, struct spr_ctl_error *err)
{
	json_t *a = json_object_get(params, "a"), *b = json_object_get(params, "b");

	if (!json_is_integer(a) || !json_is_integer(b)) {
		spr_ctl_error_set(err, SPR_CTL_INVALID_PARAMS, "a and b must be integers");
		return NULL;
	}
	return json_integer(json_integer_value(a) + json_integer_value(b));
}

static json_t *
h_fail(void *arg, json_t *params, struct spr_ctl_error *err)
{
	spr_ctl_error_set(err, SPR_CTL_NOT_FOUND, "no such AOR: %s", "bob@example.com");
	return NULL;
}

static json_t *
h_null(void *arg, json_t *params, struct spr_ctl_error *err)
{
	return NULL;
}

static json_t *
h_count(void *arg, json_t *params, struct spr_ctl_error *err)
{
	return json_integer(++*(int *)arg);
}

static int counter;

static struct spr_ctl *
open_ok(const char *path)
{
	int err = 0;
	struct spr_ctl *ctl = spr_ctl_open(path, &err);

	assert_non_null(ctl);
	assert_int_equal(spr_ctl_register(ctl, "echo", h_echo, NULL), 0);
	assert_int_equal(spr_ctl_register(ctl, "add", h_add, NULL), 0);
	assert_int_equal(spr_ctl_register(ctl, "fail", h_fail, NULL), 0);
	assert_int_equal(spr_ctl_register(ctl, "null", h_null, NULL), 0);
	assert_int_equal(spr_ctl_register(ctl, "count", h_count, &counter), 0);
	assert_int_equal(spr_ctl_register_stream(ctl, "events"), 0);
	return ctl;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/spr-ctl-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/run/sprd/sprd.sock", f->dir);
	f->ctl = open_ok(f->path);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	spr_ctl_close(f->ctl);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static int
client(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	strcpy(addr.sun_path, path);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	return fd;
}

static void
send_all(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

		assert_true(n > 0);
		s += n;
		len -= (size_t)n;
	}
}

static void
send_str(int fd, const char *s)
{
	send_all(fd, s, strlen(s));
}

/* Per-client input kept between reads. */
struct rd {
	char buf[1 << 17];
	size_t len;
	bool eof;
};

/*
 * The next line the server sends on fd (malloc'd, no newline), driving the
 * server meanwhile; NULL at EOF or when nothing comes within WAIT_ROUNDS.
 */
static char *
next_line(struct spr_ctl *ctl, int fd, struct rd *r)
{
	for (int round = 0; round < WAIT_ROUNDS; round++) {
		char *nl = memchr(r->buf, '\n', r->len);
		ssize_t n;

		if (nl != NULL) {
			size_t len = (size_t)(nl - r->buf);
			char *line = strndup(r->buf, len);

			memmove(r->buf, nl + 1, r->len - len - 1);
			r->len -= len + 1;
			return line;
		}
		if (r->eof)
			return NULL;
		assert_true(spr_ctl_poll(ctl, 64) >= 0);
		assert_true(r->len < sizeof(r->buf));
		n = recv(fd, r->buf + r->len, sizeof(r->buf) - r->len, MSG_DONTWAIT);
		if (n > 0)
			r->len += (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			r->eof = true;
		else
			usleep(1000);
	}
	return NULL;
}

static json_t *
next_json(struct spr_ctl *ctl, int fd, struct rd *r)
{
	char *line = next_line(ctl, fd, r);
	json_t *v;

	assert_non_null(line);
	v = json_loads(line, JSON_ALLOW_NUL, NULL);
	assert_non_null(v);
	free(line);
	return v;
}

/* Send one request line and return the parsed response. */
static json_t *
call(struct spr_ctl *ctl, int fd, struct rd *r, const char *req)
{
	send_str(fd, req);
	send_str(fd, "\n");
	return next_json(ctl, fd, r);
}

static void
assert_error(json_t *resp, int code)
{
	json_t *e = json_object_get(resp, "error");

	assert_non_null(e);
	assert_null(json_object_get(resp, "result"));
	assert_string_equal(json_string_value(json_object_get(resp, "jsonrpc")), "2.0");
	assert_int_equal(json_integer_value(json_object_get(e, "code")), code);
	assert_true(json_is_string(json_object_get(e, "message")));
}

static void
assert_id_null(json_t *resp)
{
	assert_true(json_is_null(json_object_get(resp, "id")));
}

/* Nothing more comes, and then EOF (the server closed). */
static void
assert_closed(struct spr_ctl *ctl, int fd, struct rd *r)
{
	char *line = next_line(ctl, fd, r);

	assert_null(line);
	assert_true(r->eof);
}

static void
test_open_layout(void **state)
{
	struct fixture *f = *state;
	struct stat sb;

	assert_int_equal(stat(f->path, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0660);
	assert_int_equal(spr_ctl_register(f->ctl, "echo", h_echo, NULL), -EEXIST);
	assert_int_equal(spr_ctl_register(f->ctl, "events.follow", h_echo, NULL), -EEXIST);
	assert_int_equal(spr_ctl_register(f->ctl, "", h_echo, NULL), -EINVAL);
	assert_int_equal(spr_ctl_register_stream(f->ctl, "events"), -EEXIST);
	assert_int_equal(spr_ctl_poll(f->ctl, 16), 0);
}

static void
test_valid_call(void **state)
{
	struct fixture *f = *state;
	static struct rd r;
	int fd = client(f->path);
	json_t *resp, *want;

	r.len = 0;
	r.eof = false;
	resp = call(f->ctl, fd, &r,
		    "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"add\","
		    "\"params\":{\"a\":2,\"b\":40}}");
	assert_int_equal(json_integer_value(json_object_get(resp, "id")), 7);
	assert_int_equal(json_integer_value(json_object_get(resp, "result")), 42);
	assert_null(json_object_get(resp, "error"));
	json_decref(resp);

	/* string id, CRLF, params absent: the handler sees an empty object */
	resp = call(f->ctl, fd, &r, "{\"jsonrpc\":\"2.0\",\"id\":\"x1\",\"method\":\"echo\"}\r");
	assert_string_equal(json_string_value(json_object_get(resp, "id")), "x1");
	want = json_pack("{s:{}}", "params");
	assert_true(json_equal(json_object_get(resp, "result"), want));
	json_decref(want);
	json_decref(resp);

	/* a notification is run, never answered: the next line is the next call's */
	counter = 0;
	send_str(fd, "{\"jsonrpc\":\"2.0\",\"method\":\"count\"}\n\n");
	resp = call(f->ctl, fd, &r, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"count\"}");
	assert_int_equal(json_integer_value(json_object_get(resp, "id")), 2);
	assert_int_equal(json_integer_value(json_object_get(resp, "result")), 2);
	json_decref(resp);

	/* a batch: one answer array, notifications left out */
	resp = call(
		f->ctl, fd, &r,
		"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"add\",\"params\":{\"a\":1,\"b\":1}},"
		"{\"jsonrpc\":\"2.0\",\"method\":\"count\"},"
		"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"nope\"}]");
	assert_true(json_is_array(resp));
	assert_int_equal(json_array_size(resp), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(resp, 0), "result")), 2);
	assert_error(json_array_get(resp, 1), SPR_CTL_METHOD_NOT_FOUND);
	assert_int_equal(counter, 3);
	json_decref(resp);

	/* a request split over several writes */
	send_str(fd, "{\"jsonrpc\":\"2.0\",\"id\":9,");
	assert_int_equal(spr_ctl_poll(f->ctl, 16), 0);
	resp = call(f->ctl, fd, &r, "\"method\":\"add\",\"params\":{\"a\":4,\"b\":5}}");
	assert_int_equal(json_integer_value(json_object_get(resp, "result")), 9);
	json_decref(resp);
	close(fd);
}

static void
test_errors(void **state)
{
	struct fixture *f = *state;
	static struct rd r;
	int fd = client(f->path);
	struct spr_ctl_stats st;
	json_t *resp;

	r.len = 0;
	r.eof = false;
	resp = call(f->ctl, fd, &r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ul.nothing\"}");
	assert_error(resp, SPR_CTL_METHOD_NOT_FOUND);
	assert_int_equal(json_integer_value(json_object_get(resp, "id")), 1);
	json_decref(resp);

	resp = call(f->ctl, fd, &r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":");
	assert_error(resp, SPR_CTL_PARSE_ERROR);
	assert_id_null(resp);
	json_decref(resp);

	resp = call(f->ctl, fd, &r, "1");
	assert_error(resp, SPR_CTL_INVALID_REQUEST);
	json_decref(resp);
	resp = call(f->ctl, fd, &r, "[]");
	assert_error(resp, SPR_CTL_INVALID_REQUEST);
	json_decref(resp);
	resp = call(f->ctl, fd, &r, "{\"id\":4,\"method\":\"add\"}");
	assert_error(resp, SPR_CTL_INVALID_REQUEST);
	assert_int_equal(json_integer_value(json_object_get(resp, "id")), 4);
	json_decref(resp);
	resp = call(f->ctl, fd, &r,
		    "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"add\",\"params\":\"x\"}");
	assert_error(resp, SPR_CTL_INVALID_REQUEST);
	json_decref(resp);
	resp = call(f->ctl, fd, &r, "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"add\"}");
	assert_error(resp, SPR_CTL_INVALID_REQUEST);
	assert_id_null(resp);
	json_decref(resp);

	resp = call(f->ctl, fd, &r,
		    "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"add\",\"params\":{\"a\":\"x\"}}");
	assert_error(resp, SPR_CTL_INVALID_PARAMS);
	assert_int_equal(json_integer_value(json_object_get(resp, "id")), 6);
	json_decref(resp);

	resp = call(f->ctl, fd, &r, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"fail\"}");
	assert_error(resp, SPR_CTL_NOT_FOUND);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(resp, "error"), "message")),
		"no such AOR: bob@example.com");
	json_decref(resp);

	resp = call(f->ctl, fd, &r, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"null\"}");
	assert_error(resp, SPR_CTL_INTERNAL_ERROR);
	json_decref(resp);

	/* the connection survived all of it */
	resp = call(
		f->ctl, fd, &r,
		"{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"add\",\"params\":{\"a\":1,\"b\":2}}");
	assert_int_equal(json_integer_value(json_object_get(resp, "result")), 3);
	json_decref(resp);
	spr_ctl_stats_get(f->ctl, &st);
	assert_int_equal(st.errors, 10);
	assert_int_equal(st.clients, 1);
	close(fd);
}

static void
test_oversize(void **state)
{
	struct fixture *f = *state;
	static struct rd r;
	static char big[SPR_CTL_REQUEST_MAX + 2];
	const char *head = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"echo\",\"params\":{\"p\":\"";
	size_t hl = strlen(head);
	struct spr_ctl_stats st;
	json_t *resp;
	int fd = client(f->path);

	/* exactly SPR_CTL_REQUEST_MAX bytes: served */
	r.len = 0;
	r.eof = false;
	memset(big, 'x', SPR_CTL_REQUEST_MAX);
	memcpy(big, head, hl);
	memcpy(big + SPR_CTL_REQUEST_MAX - 3, "\"}}", 3);
	big[SPR_CTL_REQUEST_MAX] = '\n';
	send_all(fd, big, SPR_CTL_REQUEST_MAX + 1);
	resp = next_json(f->ctl, fd, &r);
	assert_int_equal(json_string_length(json_object_get(
				 json_object_get(json_object_get(resp, "result"), "params"), "p")),
			 SPR_CTL_REQUEST_MAX - hl - 3);
	json_decref(resp);

	/* one byte more: an error, then the server closes */
	memset(big, 'x', sizeof(big));
	send_all(fd, big, sizeof(big));
	resp = next_json(f->ctl, fd, &r);
	assert_error(resp, SPR_CTL_INVALID_REQUEST);
	assert_id_null(resp);
	json_decref(resp);
	assert_closed(f->ctl, fd, &r);
	spr_ctl_stats_get(f->ctl, &st);
	assert_int_equal(st.oversize, 1);
	assert_int_equal(st.clients, 0);
	close(fd);
}

static void
test_two_clients(void **state)
{
	struct fixture *f = *state;
	static struct rd ra, rb;
	int a = client(f->path), b = client(f->path);
	json_t *resp;

	ra.len = rb.len = 0;
	ra.eof = rb.eof = false;
	send_str(a, "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"add\",\"params\":{\"a\":1,"
		    "\"b\":0}}\n");
	send_str(b, "{\"jsonrpc\":\"2.0\",\"id\":\"b\",\"method\":\"add\",\"params\":{\"a\":2,"
		    "\"b\":0}}\n");
	resp = next_json(f->ctl, b, &rb);
	assert_string_equal(json_string_value(json_object_get(resp, "id")), "b");
	assert_int_equal(json_integer_value(json_object_get(resp, "result")), 2);
	json_decref(resp);
	resp = next_json(f->ctl, a, &ra);
	assert_string_equal(json_string_value(json_object_get(resp, "id")), "a");
	assert_int_equal(json_integer_value(json_object_get(resp, "result")), 1);
	json_decref(resp);

	/* a half-closed client still gets its answers, the last line needs no newline */
	send_str(a, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"count\"}\n"
		    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"count\"}");
	shutdown(a, SHUT_WR);
	resp = next_json(f->ctl, a, &ra);
	assert_int_equal(json_integer_value(json_object_get(resp, "id")), 1);
	json_decref(resp);
	resp = next_json(f->ctl, a, &ra);
	assert_int_equal(json_integer_value(json_object_get(resp, "id")), 2);
	json_decref(resp);
	assert_closed(f->ctl, a, &ra);
	close(a);

	resp = call(f->ctl, b, &rb, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"count\"}");
	assert_int_equal(json_integer_value(json_object_get(resp, "id")), 3);
	json_decref(resp);
	close(b);
}

static void
test_client_cap(void **state)
{
	struct fixture *f = *state;
	static struct rd r[SPR_CTL_CLIENTS + 1];
	int fd[SPR_CTL_CLIENTS + 1];
	struct spr_ctl_stats st;
	json_t *resp;

	for (uint32_t i = 0; i < SPR_CTL_CLIENTS; i++) {
		fd[i] = client(f->path);
		r[i].len = 0;
		r[i].eof = false;
		resp = call(f->ctl, fd[i], &r[i],
			    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"count\"}");
		assert_non_null(json_object_get(resp, "result"));
		json_decref(resp);
	}
	fd[SPR_CTL_CLIENTS] = client(f->path);
	r[SPR_CTL_CLIENTS].len = 0;
	r[SPR_CTL_CLIENTS].eof = false;
	resp = next_json(f->ctl, fd[SPR_CTL_CLIENTS], &r[SPR_CTL_CLIENTS]);
	assert_error(resp, SPR_CTL_BUSY);
	json_decref(resp);
	assert_closed(f->ctl, fd[SPR_CTL_CLIENTS], &r[SPR_CTL_CLIENTS]);
	spr_ctl_stats_get(f->ctl, &st);
	assert_int_equal(st.clients, SPR_CTL_CLIENTS);
	assert_int_equal(st.refused, 1);

	/* a freed slot takes the next one */
	close(fd[0]);
	close(fd[SPR_CTL_CLIENTS]);
	for (int i = 0; i < 10; i++)
		spr_ctl_poll(f->ctl, 16);
	fd[0] = client(f->path);
	r[0].len = 0;
	r[0].eof = false;
	resp = call(f->ctl, fd[0], &r[0], "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"count\"}");
	assert_non_null(json_object_get(resp, "result"));
	json_decref(resp);
	for (uint32_t i = 0; i < SPR_CTL_CLIENTS; i++)
		close(fd[i]);
}

static void
test_stale_socket(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char path[160], file[160];
	struct spr_ctl *ctl;
	static struct rd r;
	json_t *resp;
	int fd, err = 0;

	/* a socket file left by a dead server */
	snprintf(path, sizeof(path), "%s/stale.sock", f->dir);
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	ctl = open_ok(path);
	fd = client(path);
	r.len = 0;
	r.eof = false;
	resp = call(ctl, fd, &r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"count\"}");
	assert_non_null(json_object_get(resp, "result"));
	json_decref(resp);
	close(fd);
	spr_ctl_close(ctl);
	assert_int_equal(access(path, F_OK), -1);

	/* something that is not a socket is left alone */
	snprintf(file, sizeof(file), "%s/file.sock", f->dir);
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_null(spr_ctl_open(file, &err));
	assert_int_equal(err, -EEXIST);
	assert_int_equal(access(file, F_OK), 0);

	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_null(spr_ctl_open(path, &err));
	assert_int_equal(err, -ENAMETOOLONG);
}

static void
test_live_server_refused(void **state)
{
	struct fixture *f = *state;
	static struct rd r;
	json_t *resp;
	int fd, err = 0;

	assert_null(spr_ctl_open(f->path, &err));
	assert_int_equal(err, -EADDRINUSE);
	/* the live one still serves, its socket file intact */
	fd = client(f->path);
	r.len = 0;
	r.eof = false;
	resp = call(f->ctl, fd, &r, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"count\"}");
	assert_non_null(json_object_get(resp, "result"));
	json_decref(resp);
	close(fd);
}

static void
test_events(void **state)
{
	struct fixture *f = *state;
	static struct rd ra, rb;
	int a = client(f->path), b = client(f->path);
	json_t *resp, *ev = json_pack("{s:s, s:s, s:i}", "type", "registered", "aor",
				      "alice@example.com", "bindings", 1);
	struct spr_ctl_stats st;

	ra.len = rb.len = 0;
	ra.eof = rb.eof = false;
	assert_int_equal(spr_ctl_broadcast(f->ctl, "events", ev), 0);
	assert_int_equal(spr_ctl_broadcast(f->ctl, "nope", ev), -ENOENT);
	resp = call(f->ctl, a, &ra, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"events.follow\"}");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(resp, "result"), "stream")),
		"events");
	json_decref(resp);
	resp = call(f->ctl, b, &rb, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"count\"}");
	json_decref(resp);
	spr_ctl_stats_get(f->ctl, &st);
	assert_int_equal(st.followers, 1);

	assert_int_equal(spr_ctl_broadcast(f->ctl, "events", ev), 1);
	assert_int_equal(spr_ctl_broadcast(f->ctl, "events", ev), 1);
	for (int i = 0; i < 2; i++) {
		resp = next_json(f->ctl, a, &ra);
		assert_null(json_object_get(resp, "id"));
		assert_string_equal(json_string_value(json_object_get(resp, "jsonrpc")), "2.0");
		assert_string_equal(json_string_value(json_object_get(resp, "method")), "event");
		assert_true(json_equal(json_object_get(resp, "params"), ev));
		json_decref(resp);
	}
	/* the follower may still call methods */
	resp = call(f->ctl, a, &ra, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"count\"}");
	assert_int_equal(json_integer_value(json_object_get(resp, "id")), 2);
	json_decref(resp);
	/* the other client got nothing */
	assert_int_equal(recv(b, rb.buf, sizeof(rb.buf), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);

	/* gone followers are not counted */
	close(a);
	for (int i = 0; i < 10; i++)
		spr_ctl_poll(f->ctl, 16);
	assert_int_equal(spr_ctl_broadcast(f->ctl, "events", ev), 0);
	assert_int_equal(recv(b, rb.buf, sizeof(rb.buf), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	json_decref(ev);
	close(b);
}

static void
test_slow_follower_dropped(void **state)
{
	struct fixture *f = *state;
	static struct rd ra, rb;
	static char pad[4000];
	int a = client(f->path), b = client(f->path);
	json_t *resp, *ev;
	struct spr_ctl_stats st;
	uint32_t sent = 0, lines = 0;
	int n;
	char *line;

	ra.len = rb.len = 0;
	ra.eof = rb.eof = false;
	memset(pad, 'e', sizeof(pad) - 1);
	ev = json_pack("{s:s}", "pad", pad);
	for (int i = 0; i < 2; i++) {
		int fd = i ? b : a;
		struct rd *r = i ? &rb : &ra;

		resp = call(f->ctl, fd, r,
			    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"events.follow\"}");
		assert_non_null(json_object_get(resp, "result"));
		json_decref(resp);
	}
	/* a never reads; b keeps up */
	while ((n = spr_ctl_broadcast(f->ctl, "events", ev)) == 2) {
		sent++;
		assert_true(sent < 10000);
		line = next_line(f->ctl, b, &rb);
		assert_non_null(line);
		free(line);
	}
	assert_int_equal(n, 1);
	assert_true((uint64_t)sent * sizeof(pad) > SPR_CTL_STREAM_BACKLOG);
	spr_ctl_stats_get(f->ctl, &st);
	assert_int_equal(st.slow_drops, 1);
	assert_int_equal(st.clients, 2 - 1);
	assert_int_equal(st.followers, 1);

	/* a reads what was queued before the drop (whole lines), then EOF */
	while ((line = next_line(f->ctl, a, &ra)) != NULL) {
		resp = json_loads(line, 0, NULL);
		assert_non_null(resp);
		json_decref(resp);
		free(line);
		lines++;
	}
	assert_true(ra.eof);
	assert_true(lines <= sent);
	assert_true(lines > 0);
	json_decref(ev);
	close(a);
	close(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_valid_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_clients, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_server_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_follower_dropped, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
