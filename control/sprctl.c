/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sprctl: the command line of sprd's control socket (JSON-RPC 2.0, one JSON
 * object per line). Exit status: 0 done, 1 sprd answered with an error or
 * could not be reached, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define SPRCTL_DEFAULT_PATH "/run/sprd/sprd.sock" /* SPR_CTL_DEFAULT_PATH */
#define SPRCTL_DEFAULT_TIMEOUT_MS 5000
#define SPRCTL_OUT_FLAGS (JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))

static const char usage_text[] =
	"usage: sprctl [--ctl PATH] [--timeout MS] COMMAND [ARGS...]\n"
	"\n"
	"Commands:\n"
	"  ul.lookup AOR           bindings of an address-of-record\n"
	"  ul.dump [--brief]       every AOR (--brief: contacts and expiries only)\n"
	"  ul.rm AOR [CONTACT]     remove the AOR's bindings, or only CONTACT\n"
	"  presence.show AOR       a presentity's publications (ETag, expiry, state),\n"
	"                          composed state and PIDF document\n"
	"  presence.watchers AOR   a presentity's subscriptions (watcher, dialog, expiry,\n"
	"                          state, last version sent, NOTIFY CSeq)\n"
	"  presence.buddies AOR [--limit N]\n"
	"                          the registered users of the AOR's domain with their\n"
	"                          state and note (at most N, default 100, max 10000)\n"
	"  stats                   counters\n"
	"  mem.stats               memory: jemalloc totals, per shard its records, hint\n"
	"                          array and arena by size class, the expiry calendar\n"
	"  auth.stats              Bearer token counters: worker cache hits and misses,\n"
	"                          outcomes, failures by verdict, control, cache\n"
	"  auth.reload             reload the JWK Set (--jwks) and flush the token cache\n"
	"  events                  print each event as one JSON line until interrupted\n"
	"  call METHOD [PARAMS]    any method; PARAMS is a JSON object or array\n"
	"\n"
	"Options:\n"
	"  -c, --ctl PATH          control socket (default: $SPRD_CTL, else " SPRCTL_DEFAULT_PATH
	")\n"
	"  -t, --timeout MS        wait at most MS for the answer; 0 waits forever (default 5000)\n"
	"  -h, --help              this text\n";

struct conn {
	int fd;
	const char *path;
	char *buf;
	size_t len;
	size_t cap;
};

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	interrupted = 1;
}

static int
usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "sprctl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage_text);
	return 2;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
conn_open(struct conn *c, const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	size_t len = strlen(path);

	c->path = path;
	if (len >= sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		goto err;
	}
	memcpy(addr.sun_path, path, len + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto err;
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		int e = errno;

		close(c->fd);
		errno = e;
		goto err;
	}
	return 0;

err:
	fprintf(stderr, "sprctl: cannot connect to %s: %s (is sprd running? --ctl PATH)\n", path,
		strerror(errno));
	return -1;
}

static int
conn_send(struct conn *c, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = send(c->fd, s, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "sprctl: %s: %s\n", c->path, strerror(errno));
			return -1;
		}
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The next line from sprd, parsed, waiting until deadline (ms, 0: none).
 * Returns NULL after printing why: timeout, closed connection, bad JSON or
 * an interrupt (silent, interrupted set).
 */
static json_t *
conn_next(struct conn *c, uint64_t deadline)
{
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		int timeout = -1;
		ssize_t n;

		if (nl != NULL) {
			size_t line = (size_t)(nl - c->buf);
			json_error_t jerr;
			json_t *v = json_loadb(c->buf, line, JSON_ALLOW_NUL, &jerr);

			memmove(c->buf, nl + 1, c->len - line - 1);
			c->len -= line + 1;
			if (v == NULL)
				fprintf(stderr, "sprctl: bad answer from %s: %s\n", c->path,
					jerr.text);
			return v;
		}
		if (interrupted)
			return NULL;
		if (deadline != 0) {
			uint64_t t = now_ms();

			if (t >= deadline) {
				fprintf(stderr,
					"sprctl: no answer from %s in time (--timeout MS)\n",
					c->path);
				return NULL;
			}
			timeout = (int)(deadline - t);
		}
		if (poll(&pfd, 1, timeout) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "sprctl: poll: %s\n", strerror(errno));
			return NULL;
		}
		if (pfd.revents == 0)
			continue;
		if (c->cap - c->len < 4096) {
			size_t cap = c->cap ? c->cap * 2 : 65536;
			char *p = realloc(c->buf, cap);

			if (p == NULL) {
				fprintf(stderr, "sprctl: out of memory\n");
				return NULL;
			}
			c->buf = p;
			c->cap = cap;
		}
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "sprctl: %s closed the connection%s%s\n", c->path,
				n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
			return NULL;
		}
		c->len += (size_t)n;
	}
}

/* Print a response: result on stdout (0) or error on stderr (1). */
static int
print_response(const char *method, json_t *resp)
{
	json_t *result = json_object_get(resp, "result");
	json_t *error = json_object_get(resp, "error");

	if (error != NULL) {
		const char *msg = json_string_value(json_object_get(error, "message"));
		json_int_t code = json_integer_value(json_object_get(error, "code"));

		fprintf(stderr, "sprctl: %s: %s (%lld)\n", method, msg ? msg : "error",
			(long long)code);
		return 1;
	}
	if (result == NULL) {
		fprintf(stderr, "sprctl: %s: answer has neither result nor error\n", method);
		return 1;
	}
	if (json_dumpf(result, stdout, JSON_INDENT(2) | SPRCTL_OUT_FLAGS) != 0 ||
	    fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
		fprintf(stderr, "sprctl: cannot write the result\n");
		return 1;
	}
	return 0;
}

/* After "events.follow" answered: print each event's params as one line. */
static int
follow(struct conn *c)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (;;) {
		json_t *v = conn_next(c, 0);
		json_t *params;
		int rc = 0;

		if (v == NULL)
			return interrupted ? 0 : 1;
		params = json_object_get(v, "params");
		if (json_is_string(json_object_get(v, "method")) && params != NULL &&
		    (json_dumpf(params, stdout, JSON_COMPACT | SPRCTL_OUT_FLAGS) != 0 ||
		     fputc('\n', stdout) == EOF || fflush(stdout) != 0))
			rc = 1;
		json_decref(v);
		if (rc != 0)
			return rc;
	}
}

/* Build method and params from the command line. Returns 0, or an exit status. */
static int
build_request(int argc, char **argv, const char **method, json_t **params)
{
	const char *cmd = argv[0];

	*params = NULL;
	*method = cmd;
	if (strcmp(cmd, "ul.lookup") == 0) {
		if (argc != 2)
			return usage_error("%s takes one AOR", cmd);
		*params = json_pack("{s:s}", "aor", argv[1]);
	} else if (strcmp(cmd, "ul.dump") == 0) {
		bool brief = false;

		if (argc > 2 || (argc == 2 && strcmp(argv[1], "--brief") != 0))
			return usage_error("%s takes only --brief", cmd);
		brief = argc == 2;
		*params = json_pack("{s:b}", "brief", brief);
	} else if (strcmp(cmd, "ul.rm") == 0) {
		if (argc != 2 && argc != 3)
			return usage_error("%s takes an AOR and optionally a contact", cmd);
		*params = argc == 3 ? json_pack("{s:s, s:s}", "aor", argv[1], "contact", argv[2])
				    : json_pack("{s:s}", "aor", argv[1]);
	} else if (strcmp(cmd, "presence.show") == 0 || strcmp(cmd, "presence.watchers") == 0) {
		if (argc != 2)
			return usage_error("%s takes one AOR", cmd);
		*params = json_pack("{s:s}", "aor", argv[1]);
	} else if (strcmp(cmd, "presence.buddies") == 0) {
		char *end = NULL;
		unsigned long limit = 0;

		if (argc == 4 && strcmp(argv[2], "--limit") == 0) {
			limit = strtoul(argv[3], &end, 10);
			if (*argv[3] == '\0' || *end != '\0' || limit == 0 || limit > 10000)
				return usage_error("bad --limit: %s (1 to 10000)", argv[3]);
		} else if (argc != 2) {
			return usage_error("%s takes one AOR and optionally --limit N", cmd);
		}
		*params = limit != 0 ? json_pack("{s:s, s:I}", "aor", argv[1], "limit",
						 (json_int_t)limit)
				     : json_pack("{s:s}", "aor", argv[1]);
	} else if (strcmp(cmd, "stats") == 0 || strcmp(cmd, "auth.stats") == 0 ||
		   strcmp(cmd, "auth.reload") == 0 || strcmp(cmd, "mem.stats") == 0) {
		if (argc != 1)
			return usage_error("%s takes no arguments", cmd);
		*params = json_object();
	} else if (strcmp(cmd, "events") == 0) {
		if (argc != 1)
			return usage_error("%s takes no arguments", cmd);
		*method = "events.follow";
		*params = json_object();
	} else if (strcmp(cmd, "call") == 0) {
		json_error_t jerr;

		if (argc != 2 && argc != 3)
			return usage_error("%s takes a METHOD and optionally JSON params", cmd);
		*method = argv[1];
		if (argc == 2) {
			*params = json_object();
		} else {
			*params = json_loads(argv[2], JSON_DECODE_ANY, &jerr);
			if (!json_is_object(*params) && !json_is_array(*params)) {
				json_decref(*params);
				return usage_error("params must be a JSON object or array: %s",
						   argv[2]);
			}
		}
	} else {
		return usage_error("unknown command: %s", cmd);
	}
	if (*params == NULL) {
		fprintf(stderr, "sprctl: out of memory\n");
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"ctl", required_argument, NULL, 'c'},
		{"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = getenv("SPRD_CTL"), *method;
	unsigned long timeout = SPRCTL_DEFAULT_TIMEOUT_MS;
	struct conn c = {.fd = -1};
	json_t *params, *req, *resp;
	uint64_t deadline = 0;
	char *line;
	int opt, rc;

	if (path == NULL || path[0] == '\0')
		path = SPRCTL_DEFAULT_PATH;
	while ((opt = getopt_long(argc, argv, "+c:t:h", opts, NULL)) != -1) {
		char *end;

		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 't':
			errno = 0;
			timeout = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-' ||
			    timeout > INT32_MAX)
				return usage_error("bad --timeout: %s", optarg);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (optind >= argc)
		return usage_error("%s", "no command");
	if ((rc = build_request(argc - optind, argv + optind, &method, &params)) != 0)
		return rc;

	req = json_pack("{s:s, s:i, s:s, s:o}", "jsonrpc", "2.0", "id", 1, "method", method,
			"params", params);
	line = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (line == NULL) {
		fprintf(stderr, "sprctl: out of memory\n");
		return 1;
	}
	if (conn_open(&c, path) != 0) {
		free(line);
		return 1;
	}
	rc = conn_send(&c, line, strlen(line)) == 0 && conn_send(&c, "\n", 1) == 0 ? 0 : 1;
	free(line);
	if (timeout != 0)
		deadline = now_ms() + timeout;
	while (rc == 0) {
		resp = conn_next(&c, deadline);
		if (resp == NULL) {
			rc = 1;
			break;
		}
		/* notifications may come before the answer; skip them */
		if (json_object_get(resp, "id") == NULL) {
			json_decref(resp);
			continue;
		}
		if (strcmp(argv[optind], "events") != 0 || json_object_get(resp, "error") != NULL) {
			rc = print_response(method, resp);
			json_decref(resp);
			break;
		}
		json_decref(resp);
		rc = follow(&c);
		break;
	}
	close(c.fd);
	free(c.buf);
	return rc;
}
