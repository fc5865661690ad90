/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sprctl binary (path in argv[1]) against a real spr_ctl server run by a
 * thread of this test: arguments to params, output, exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "ctl.h"
#include "testutil.h"

extern char **environ;

static const char *sprctl_bin;
static char dir[64];
static char sock_path[128];

static struct {
	pthread_t thread;
	struct spr_ctl *ctl;
	volatile bool stop;
} server;

static json_t *
h_lookup(void *arg, json_t *params, struct spr_ctl_error *err)
{
	const char *aor;

	if (json_unpack(params, "{s:s !}", "aor", &aor) != 0) {
		spr_ctl_error_set(err, SPR_CTL_INVALID_PARAMS, "params: {\"aor\": AOR}");
		return NULL;
	}
	if (strcmp(aor, "alice@example.com") != 0) {
		spr_ctl_error_set(err, SPR_CTL_NOT_FOUND, "no such AOR: %s", aor);
		return NULL;
	}
	return json_pack("{s:s, s:[{s:s, s:i, s:f}]}", "aor", aor, "bindings", "contact",
			 "sip:alice@192.0.2.1", "expires", 60, "q", 0.1);
}

static json_t *
h_dump(void *arg, json_t *params, struct spr_ctl_error *err)
{
	int brief;

	if (json_unpack(params, "{s:b !}", "brief", &brief) != 0) {
		spr_ctl_error_set(err, SPR_CTL_INVALID_PARAMS, "params: {\"brief\": bool}");
		return NULL;
	}
	return json_pack("{s:b, s:[]}", "brief", brief, "aors");
}

static json_t *
h_echo(void *arg, json_t *params, struct spr_ctl_error *err)
{
	return json_incref(params);
}

static json_t *
h_stats(void *arg, json_t *params, struct spr_ctl_error *err)
{
	if (json_object_size(params) != 0) {
		spr_ctl_error_set(err, SPR_CTL_INVALID_PARAMS, "no params");
		return NULL;
	}
	return json_pack("{s:{s:i}}", "registrar", "ok", 3);
}

/* Serve; while anyone follows "events", broadcast {"n": k} every few ms. */
static void *
server_main(void *arg)
{
	struct spr_ctl_stats st;
	int k = 0, tick = 0;

	while (!server.stop) {
		spr_ctl_poll(server.ctl, 64);
		spr_ctl_stats_get(server.ctl, &st);
		if (st.followers != 0 && ++tick % 5 == 0) {
			json_t *ev = json_pack("{s:s, s:i}", "type", "test", "n", k++);

			spr_ctl_broadcast(server.ctl, "events", ev);
			json_decref(ev);
		}
		usleep(1000);
	}
	return NULL;
}

static int
group_setup(void **state)
{
	int err = 0;

	strcpy(dir, "/tmp/spr-sprctl-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/sprd.sock", dir);
	server.ctl = spr_ctl_open(sock_path, &err);
	if (server.ctl == NULL)
		return -1;
	if (spr_ctl_register(server.ctl, "ul.lookup", h_lookup, NULL) != 0 ||
	    spr_ctl_register(server.ctl, "ul.dump", h_dump, NULL) != 0 ||
	    spr_ctl_register(server.ctl, "ul.rm", h_echo, NULL) != 0 ||
	    spr_ctl_register(server.ctl, "echo", h_echo, NULL) != 0 ||
	    spr_ctl_register(server.ctl, "stats", h_stats, NULL) != 0 ||
	    spr_ctl_register_stream(server.ctl, "events") != 0)
		return -1;
	return pthread_create(&server.thread, NULL, server_main, NULL) == 0 ? 0 : -1;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	server.stop = true;
	pthread_join(server.thread, NULL);
	spr_ctl_close(server.ctl);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* environ with SPRD_CTL removed, then set to ctl_env when not NULL. */
static char **
make_env(const char *ctl_env)
{
	static char *env[512];
	static char var[256];
	size_t n = 0;

	for (char **e = environ; *e != NULL && n < 510; e++)
		if (strncmp(*e, "SPRD_CTL=", 9) != 0)
			env[n++] = *e;
	if (ctl_env != NULL) {
		snprintf(var, sizeof(var), "SPRD_CTL=%s", ctl_env);
		env[n++] = var;
	}
	env[n] = NULL;
	return env;
}

struct result {
	int status; /* exit status, or 128 + signal */
	char *out;
	char *err;
};

static char *
slurp(const char *path)
{
	uint32_t len;
	char *s = spr_test_read_file(path, &len);

	assert_non_null(s);
	return s;
}

static pid_t
spawn(const char *const *args, const char *ctl_env, int out_fd, const char *out_path,
      const char *err_path)
{
	posix_spawn_file_actions_t fa;
	char *argv[16];
	size_t n = 0;
	pid_t pid;

	argv[n++] = (char *)sprctl_bin;
	for (; args[n - 1] != NULL; n++)
		argv[n] = (char *)args[n - 1];
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	if (out_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC,
						 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(posix_spawn(&pid, sprctl_bin, &fa, NULL, argv, make_env(ctl_env)), 0);
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

static int
wait_status(pid_t pid)
{
	int ws;

	assert_int_equal(waitpid(pid, &ws, 0), pid);
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* Run sprctl with args (NULL-terminated) and collect its outputs. */
static struct result
run_env(const char *ctl_env, const char *const *args)
{
	char out[160], err[160];
	struct result r;

	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(err, sizeof(err), "%s/err", dir);
	r.status = wait_status(spawn(args, ctl_env, -1, out, err));
	r.out = slurp(out);
	r.err = slurp(err);
	return r;
}

#define RUN(...) run_env(NULL, (const char *const[]){"--ctl", sock_path, __VA_ARGS__, NULL})
#define RUN_RAW(...) run_env(NULL, (const char *const[]){__VA_ARGS__, NULL})

static void
result_free(struct result *r)
{
	free(r->out);
	free(r->err);
}

/* stdout holds one JSON value equal to want (given as JSON text). */
static void
assert_out_json(const struct result *r, const char *want)
{
	json_t *got = json_loads(r->out, JSON_DECODE_ANY, NULL);
	json_t *exp = json_loads(want, JSON_DECODE_ANY, NULL);

	assert_non_null(got);
	assert_non_null(exp);
	if (!json_equal(got, exp))
		fail_msg("stdout %s, want %s", r->out, want);
	json_decref(got);
	json_decref(exp);
}

static void
test_lookup(void **state)
{
	struct result r = RUN("ul.lookup", "alice@example.com");

	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	/* pretty-printed, two spaces, reals short */
	assert_string_equal(r.out, "{\n"
				   "  \"aor\": \"alice@example.com\",\n"
				   "  \"bindings\": [\n"
				   "    {\n"
				   "      \"contact\": \"sip:alice@192.0.2.1\",\n"
				   "      \"expires\": 60,\n"
				   "      \"q\": 0.1\n"
				   "    }\n"
				   "  ]\n"
				   "}\n");
	result_free(&r);

	r = RUN("ul.lookup", "bob@example.com");
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "no such AOR: bob@example.com"));
	result_free(&r);
}

static void
test_dump_rm_stats(void **state)
{
	struct result r = RUN("ul.dump");

	assert_int_equal(r.status, 0);
	assert_out_json(&r, "{\"brief\": false, \"aors\": []}");
	result_free(&r);
	r = RUN("ul.dump", "--brief");
	assert_int_equal(r.status, 0);
	assert_out_json(&r, "{\"brief\": true, \"aors\": []}");
	result_free(&r);

	r = RUN("ul.rm", "alice@example.com");
	assert_int_equal(r.status, 0);
	assert_out_json(&r, "{\"aor\": \"alice@example.com\"}");
	result_free(&r);
	r = RUN("ul.rm", "alice@example.com", "sip:alice@192.0.2.1");
	assert_int_equal(r.status, 0);
	assert_out_json(&r,
			"{\"aor\": \"alice@example.com\", \"contact\": \"sip:alice@192.0.2.1\"}");
	result_free(&r);

	r = RUN("stats");
	assert_int_equal(r.status, 0);
	assert_out_json(&r, "{\"registrar\": {\"ok\": 3}}");
	result_free(&r);
}

static void
test_call(void **state)
{
	struct result r = RUN("call", "echo", "{\"x\": [1, \"two\", null]}");

	assert_int_equal(r.status, 0);
	assert_out_json(&r, "{\"x\": [1, \"two\", null]}");
	result_free(&r);
	r = RUN("call", "echo", "[1,2]");
	assert_int_equal(r.status, 0);
	assert_out_json(&r, "[1, 2]");
	result_free(&r);
	r = RUN("call", "echo");
	assert_int_equal(r.status, 0);
	assert_out_json(&r, "{}");
	result_free(&r);

	r = RUN("call", "no.such.method");
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "method not found"));
	result_free(&r);
	r = RUN("call", "ul.lookup", "{\"who\": 1}");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "-32602"));
	result_free(&r);
}

static void
test_usage(void **state)
{
	static const char *const bad[][4] = {
		{"--ctl", "/x", NULL},
		{"frobnicate", NULL},
		{"ul.lookup", NULL},
		{"ul.lookup", "a", "b", NULL},
		{"ul.dump", "--full", NULL},
		{"ul.rm", NULL},
		{"stats", "x", NULL},
		{"call", NULL},
		{"call", "echo", "{not json", NULL},
		{"call", "echo", "42", NULL},
		{"--timeout", "soon", "stats", NULL},
		{"--bogus", "stats", NULL},
	};
	struct result r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = run_env(sock_path, bad[i]);
		if (r.status != 2)
			fail_msg("case %zu: status %d", i, r.status);
		assert_string_equal(r.out, "");
		assert_non_null(strstr(r.err, "usage: sprctl"));
		result_free(&r);
	}
	r = RUN_RAW("--help");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "usage: sprctl"));
	assert_non_null(strstr(r.out, "ul.lookup AOR"));
	assert_string_equal(r.err, "");
	result_free(&r);
}

static void
test_unreachable(void **state)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char missing[160], dead[160], want[400];
	struct result r;
	int fd;

	snprintf(missing, sizeof(missing), "%s/missing.sock", dir);
	r = RUN_RAW("--ctl", missing, "stats");
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	snprintf(want, sizeof(want),
		 "sprctl: cannot connect to %s: No such file or directory (is sprd running? "
		 "--ctl PATH)\n",
		 missing);
	assert_string_equal(r.err, want);
	result_free(&r);

	/* a socket file nobody listens on */
	snprintf(dead, sizeof(dead), "%s/dead.sock", dir);
	strcpy(addr.sun_path, dead);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	close(fd);
	r = RUN_RAW("--ctl", dead, "stats");
	assert_int_equal(r.status, 1);
	snprintf(want, sizeof(want),
		 "sprctl: cannot connect to %s: Connection refused (is sprd running? --ctl PATH)\n",
		 dead);
	assert_string_equal(r.err, want);
	result_free(&r);

	/* the default path is $SPRD_CTL */
	r = run_env(missing, (const char *const[]){"stats", NULL});
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, missing));
	result_free(&r);
	r = run_env(sock_path, (const char *const[]){"stats", NULL});
	assert_int_equal(r.status, 0);
	result_free(&r);
}

/* A server that accepts nothing and answers nothing: --timeout gives up. */
static void
test_timeout(void **state)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char mute[160];
	struct result r;
	int fd;

	snprintf(mute, sizeof(mute), "%s/mute.sock", dir);
	strcpy(addr.sun_path, mute);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(fd, 4), 0);
	r = RUN_RAW("--ctl", mute, "--timeout", "200", "stats");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "no answer"));
	result_free(&r);
	close(fd);
}

/* events: one JSON line per event until SIGINT, then exit 0. */
static void
test_events(void **state)
{
	char err[160], buf[4096];
	size_t len = 0;
	int p[2], lines = 0;
	pid_t pid;

	snprintf(err, sizeof(err), "%s/err", dir);
	assert_int_equal(pipe(p), 0);
	pid = spawn((const char *const[]){"--ctl", sock_path, "events", NULL}, NULL, p[1], NULL,
		    err);
	close(p[1]);
	while (lines < 3) {
		struct pollfd pfd = {.fd = p[0], .events = POLLIN};
		ssize_t n;

		assert_int_equal(poll(&pfd, 1, 5000), 1);
		n = read(p[0], buf + len, sizeof(buf) - 1 - len);
		assert_true(n > 0);
		len += (size_t)n;
		buf[len] = '\0';
		lines = 0;
		for (char *s = buf; (s = strchr(s, '\n')) != NULL; s++)
			lines++;
	}
	kill(pid, SIGINT);
	assert_int_equal(wait_status(pid), 0);
	close(p[0]);
	/* the first lines are whole events, compact, in order */
	{
		char *save = NULL, *line = strtok_r(buf, "\n", &save);
		int prev = -1;

		for (int i = 0; i < 3; i++, line = strtok_r(NULL, "\n", &save)) {
			json_t *ev = json_loads(line, 0, NULL);
			int n;

			assert_non_null(ev);
			assert_null(strchr(line, ' '));
			assert_int_equal(json_unpack(ev, "{s:i}", "n", &n), 0);
			assert_true(n > prev);
			prev = n;
			json_decref(ev);
		}
	}
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),	    cmocka_unit_test(test_dump_rm_stats),
		cmocka_unit_test(test_call),	    cmocka_unit_test(test_usage),
		cmocka_unit_test(test_unreachable), cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_events),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH-TO-SPRCTL\n", argv[0]);
		return 2;
	}
	sprctl_bin = argv[1];
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
