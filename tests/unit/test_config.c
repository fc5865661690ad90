/* SPDX-License-Identifier: BSD-3-Clause */
/* sprd options: flags, config file, precedence, errors that name the fault. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static int
parse(struct spr_config *c, char *err, const char *const *args, int n)
{
	return spr_config_parse_args(c, n, (char **)args, err, 256);
}

static void
test_defaults(void **state)
{
	struct spr_config c;
	char err[256];

	(void)state;
	spr_config_defaults(&c);
	assert_int_equal(spr_config_check(&c, err, sizeof(err)), 0);
	assert_int_equal(c.io, SPR_IO_SOCKET);
	assert_int_equal(c.workers, 1);
	assert_int_equal(c.listen.n, 1);
	assert_int_equal(c.listen.a[0].family, AF_INET);
	assert_int_equal(c.listen.a[0].port, 5060);
	assert_memory_equal(c.listen.a[0].addr, ((uint8_t[]){127, 0, 0, 1}), 4);
	assert_int_equal(c.reg.min_expires, 60);
	assert_int_equal(c.reg.max_expires, 7200);
	assert_int_equal(c.reg.default_expires, 3600);
	assert_int_equal(c.reg.max_contacts, 10);
	assert_int_equal(c.pres.mode, SPR_PRES_MODE_B2BUA);
	assert_int_equal(c.subs.policy, SPR_SUBS_POLICY_SAME_DOMAIN);
	assert_int_equal(c.subs.max_watchers, 1000);
	assert_string_equal(c.ctl_path, "/run/sprd/sprd.sock");
}

static void
test_flags(void **state)
{
	static const char *const args[] = {
		"--io", "dpdk", "--listen", "192.0.2.1:5070", "--listen", "[2001:db8::1]:5080",
		"--domain", "example.com", "--domain=example.org", "--workers", "2",
		"--max-contacts", "3", "--drop-oldest", "--ctl", "/tmp/x.sock", "--log-level", "debug",
		"--mode", "p2p", "--presence-policy", "registered", "--max-watchers", "10000",
	};
	struct spr_config c;
	char err[256];

	(void)state;
	spr_config_defaults(&c);
	assert_int_equal(parse(&c, err, args, sizeof(args) / sizeof(args[0])), 0);
	assert_int_equal(c.io, SPR_IO_DPDK);
	assert_int_equal(c.listen.n, 2);
	assert_int_equal(c.listen.a[0].port, 5070);
	assert_int_equal(c.listen.a[1].family, AF_INET6);
	assert_int_equal(c.listen.a[1].port, 5080);
	assert_int_equal(c.reg.n_domains, 2);
	assert_int_equal(c.reg.domains[1].len, strlen("example.org"));
	assert_memory_equal(c.reg.domains[1].p, "example.org", c.reg.domains[1].len);
	assert_int_equal(c.workers, 2);
	assert_int_equal(c.reg.max_contacts, 3);
	assert_true(c.reg.drop_oldest);
	assert_string_equal(c.ctl_path, "/tmp/x.sock");
	assert_int_equal(c.log_level, 3);
	assert_int_equal(c.pres.mode, SPR_PRES_MODE_P2P);
	assert_int_equal(c.subs.policy, SPR_SUBS_POLICY_REGISTERED);
	assert_int_equal(c.subs.max_watchers, SPR_SUBS_WATCHERS_MAX); /* the ceiling: 10,000 */
}

static void
expect_error(const char *const *args, int n, const char *needle)
{
	struct spr_config c;
	char err[256] = "";

	spr_config_defaults(&c);
	assert_int_equal(parse(&c, err, args, n), -EINVAL);
	if (strstr(err, needle) == NULL)
		fail_msg("error '%s' does not say '%s'", err, needle);
}

static void
test_flag_errors(void **state)
{
	(void)state;
	expect_error((const char *const[]){"--workers", "0"}, 2, "'workers'");
	expect_error((const char *const[]){"--workers", "17"}, 2, "'workers'");
	expect_error((const char *const[]){"--workers", "2x"}, 2, "whole number");
	expect_error((const char *const[]){"--max-contacts", "65"}, 2, "'max-contacts'");
	expect_error((const char *const[]){"--max-watchers", "10001"}, 2, "'max-watchers'");
	expect_error((const char *const[]){"--max-watchers", "0"}, 2, "'max-watchers'");
	expect_error((const char *const[]){"--io", "netmap"}, 2, "bad value 'netmap'");
	expect_error((const char *const[]){"--mode", "proxy"}, 2, "option 'mode': bad value 'proxy'");
	expect_error((const char *const[]){"--presence-policy", "friends"}, 2,
		     "option 'presence-policy': bad value 'friends'");
	expect_error((const char *const[]){"--listen", "nowhere:5060"}, 2, "'listen'");
	expect_error((const char *const[]){"--listen", "192.0.2.1:70000"}, 2, "'listen'");
	expect_error((const char *const[]){"--frobnicate", "1"}, 2, "unknown option 'frobnicate'");
	expect_error((const char *const[]){"--min-expires"}, 1, "needs a value");
	expect_error((const char *const[]){"listen"}, 1, "unexpected argument");
	expect_error((const char *const[]){"--server", "a\r\nX-Evil: 1"}, 2, "'server'");
}

static void
test_cross_checks(void **state)
{
	struct spr_config c;
	char err[256];

	(void)state;
	spr_config_defaults(&c);
	c.reg.min_expires = 600;
	c.reg.max_expires = 300;
	assert_int_equal(spr_config_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "min-expires (600) is above max-expires (300)"));
	spr_config_defaults(&c);
	c.reg.default_expires = 10;
	assert_int_equal(spr_config_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "default-expires (10)"));
}

static void
test_config_file(void **state)
{
	char path[] = "/tmp/spr-config-XXXXXX";
	int fd = mkstemp(path);
	static const char text[] = "# sprd test config\n"
				   "listen = 192.0.2.9:5090\n"
				   "  workers = 2  \n"
				   "drop-oldest\n"
				   "domain = example.net\n"
				   "\n"
				   "min-expires = 30\n"
				   "mode = p2p\n"
				   "presence-policy = open\n";
	static const char *const args[] = {"--workers", "1"};
	struct spr_config c;
	char err[256];

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	spr_config_defaults(&c);
	assert_int_equal(spr_config_load_file(&c, path, err, sizeof(err)), 0);
	assert_int_equal(c.listen.a[0].port, 5090);
	assert_int_equal(c.workers, 2);
	assert_true(c.reg.drop_oldest);
	assert_int_equal(c.reg.min_expires, 30);
	assert_int_equal(c.pres.mode, SPR_PRES_MODE_P2P);
	assert_int_equal(c.subs.policy, SPR_SUBS_POLICY_OPEN);
	/* flags given after the file win */
	assert_int_equal(parse(&c, err, args, 2), 0);
	assert_int_equal(c.workers, 1);

	/* an error names the file and line */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "workers = 1\nmax-expires = soon\n", 31), 31);
	close(fd);
	spr_config_defaults(&c);
	assert_int_equal(spr_config_load_file(&c, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":2: option 'max-expires'"));
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "workers\n", 8), 8);
	close(fd);
	assert_int_equal(spr_config_load_file(&c, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":1: 'workers' needs '= value'"));
	unlink(path);
	assert_int_equal(spr_config_load_file(&c, path, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot read config"));
}

/* --auth ... --max-token-bytes (issue "OAuth"). */
static void
test_auth_options(void **state)
{
	static const char *const args[] = {
		"--auth", "bearer", "--jwks", "/etc/sprd/jwks.json", "--allow-hmac",
		"--issuer", "https://as.example.com", "--audience", "sprd", "--realm", "example.com",
		"--authz-server", "https://as.example.com/token", "--scope-register", "reg",
		"--scope-presence=pres", "--user-claim", "preferred_username", "--clock-skew", "5",
		"--token-cache-size", "1024", "--max-token-bytes", "4096",
	};
	static const char *const quote[] = {"--realm", "a\"b"};
	static const char *const small[] = {"--max-token-bytes", "10"};
	static const char *const mode[] = {"--auth", "basic"};
	struct spr_config c;
	char err[256];

	(void)state;
	spr_config_defaults(&c);
	assert_false(c.auth.enabled);
	assert_string_equal(c.auth.scope_register, "sip:register");
	assert_string_equal(c.auth.scope_presence, "sip:presence");
	assert_string_equal(c.auth.user_claim, "sub");
	assert_int_equal(c.auth.clock_skew, 30);
	assert_int_equal(c.auth.max_token_bytes, 8192);
	assert_int_equal(parse(&c, err, args, sizeof(args) / sizeof(args[0])), 0);
	assert_int_equal(spr_config_check(&c, err, sizeof(err)), 0);
	assert_true(c.auth.enabled);
	assert_true(c.auth.allow_hmac);
	assert_string_equal(c.auth.jwks_path, "/etc/sprd/jwks.json");
	assert_string_equal(c.auth.issuer, "https://as.example.com");
	assert_string_equal(c.auth.audience, "sprd");
	assert_string_equal(c.auth.realm, "example.com");
	assert_string_equal(c.auth.authz_server, "https://as.example.com/token");
	assert_string_equal(c.auth.scope_register, "reg");
	assert_string_equal(c.auth.scope_presence, "pres");
	assert_string_equal(c.auth.user_claim, "preferred_username");
	assert_int_equal(c.auth.clock_skew, 5);
	assert_int_equal(c.auth.token_cache_size, 1024);
	assert_int_equal(c.auth.max_token_bytes, 4096);

	/* quoted in WWW-Authenticate: no '"' */
	assert_int_equal(parse(&c, err, quote, 2), -EINVAL);
	assert_non_null(strstr(err, "realm"));
	assert_int_equal(parse(&c, err, small, 2), -EINVAL);
	assert_int_equal(parse(&c, err, mode, 2), -EINVAL);

	/* bearer needs a key set */
	spr_config_defaults(&c);
	assert_int_equal(parse(&c, err, args, 2), 0);
	assert_int_equal(spr_config_check(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--jwks"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_flag_errors),
		cmocka_unit_test(test_cross_checks),
		cmocka_unit_test(test_config_file),
		cmocka_unit_test(test_auth_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
