/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sprd's options. Each has a command-line flag (--name VALUE) and the same
 * key in the config file (name = value); the command line wins. One table
 * (SPR_FOREACH_OPTION) generates parsing, the config keys and --help.
 */
#ifndef SPR_CONFIG_H
#define SPR_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "auth-t.h"
#include "io.h"
#include "presence.h"
#include "registrar.h"
#include "subscribe.h"

enum spr_io_kind { SPR_IO_SOCKET, SPR_IO_DPDK };

struct spr_config {
	enum spr_io_kind io;
	struct spr_io_addrs listen;
	uint16_t workers;
	uint16_t port_id;       /* dpdk: ethdev port */
	uint32_t mbufs;         /* per worker mempool */
	uint32_t mbuf_size;     /* data room: the largest datagram taken in, headroom aside */
	uint32_t init_aors;     /* per shard, a sizing hint */
	uint32_t max_timers;    /* AORs with an expiry timer */
	struct spr_reg_cfg reg;
	struct spr_pres_cfg pres;
	struct spr_subs_cfg subs;
	uint32_t notify_min_interval_ms; /* NOTIFY throttle per subscription; 0: none */
	uint32_t max_list_members;	 /* members of one buddy list (RFC 4662) */
	uint32_t sip_t1_ms;		 /* RFC 3261 T1 for NOTIFY transactions */
	char contact_buf[80];		 /* storage behind subs.contact */
	char domains_buf[4096]; /* storage behind reg.domains */
	uint32_t domains_used;
	char ctl_path[256];
	char server[64];
	int log_level; /* 0 error, 1 warning, 2 info, 3 debug */
	char config_path[256];
	/* --auth ... --max-token-bytes; auth's strings point into auth_str */
	struct spr_auth_cfg auth;
	char auth_str[8][1024]; /* in the order of config.c's auth_str_opts */
};

/*
 * X(name, arg, help): name is the flag without "--" and the config key;
 * arg is the value's placeholder ("" for a switch).
 */
#define SPR_FOREACH_OPTION(X)                                                                      \
	X("config", "FILE", "read options from FILE (name = value lines; flags override)")        \
	X("io", "socket|dpdk", "packet I/O backend (default socket)")                            \
	X("listen", "IP:PORT", "address to serve, repeatable (default 127.0.0.1:5060); "         \
			       "for dpdk the addresses the port owns")                            \
	X("domain", "DOMAIN", "domain served, repeatable (default: any)")                         \
	X("workers", "N", "worker lcores (default 1)")                                            \
	X("port", "ID", "dpdk: ethdev port id (default 0)")                                       \
	X("mbufs", "N", "mbufs per worker (default 4096)")                                         \
	X("mbuf-size", "BYTES", "largest datagram received; bigger ones are counted drops "       \
				"(default 8192, max 65535)")                                           \
	X("min-expires", "SECONDS", "shorter registrations get 423 (default 60)")                 \
	X("max-expires", "SECONDS", "longer registrations are shortened (default 7200)")          \
	X("default-expires", "SECONDS", "expiry when the request names none (default 3600)")      \
	X("max-contacts", "N", "bindings per AOR, at most 64 (default 10)")                       \
	X("drop-oldest", "", "at max-contacts drop the oldest binding instead of 503")           \
	X("mode", "b2bua|p2p", "b2bua: a registered user with nothing published is available, "  \
			       "offline when the last binding goes (automatic presence); p2p: "   \
			       "presence without registration (default b2bua)")                   \
	X("presence-policy", "open|same-domain|registered", "who may SUBSCRIBE: anyone, a "      \
			       "watcher of the presentity's domain, or a registered watcher; "     \
			       "others get 403 (default same-domain)")                           \
	X("default-publish-expires", "SECONDS", "PUBLISH expiry when the request names none "     \
						"(default 3600)")                                  \
	X("max-publications", "N", "publications per presentity, at most 16; past it the least " \
				   "recently changed goes (default 8)")                           \
	X("max-watchers", "N", "subscriptions per presentity, at most 10000; past it 503 "         \
			       "(default 1000)")                                                  \
	X("default-subscribe-expires", "SECONDS", "SUBSCRIBE expiry when the request names none " \
						  "(default 3600)")                                \
	X("notify-min-interval", "MS", "at most one NOTIFY per subscription per MS, the last "    \
				       "state always sent (default 1000; 0: no limit)")           \
	X("max-list-members", "N", "registered users in one buddy list (sip:buddies@DOMAIN); "   \
				   "past it the list is cut (default 100, max 1000)")              \
	X("sip-t1", "MS", "RFC 3261 T1 of NOTIFY transactions: retransmit from T1, give up "      \
			  "after 64*T1 (default 500)")                                             \
	X("init-aors", "N", "expected AORs per worker, sizes the tables (default 65536)")          \
	X("max-timers", "N", "AORs with a pending expiry timer (default 4194304)")                 \
	X("ctl", "PATH", "control socket for sprctl (default /run/sprd/sprd.sock)")               \
	X("server", "TEXT", "Server header value (default sprd/VERSION)")                         \
	X("log-level", "error|warning|info|debug", "control-thread log level (default info)")    \
	X("auth", "none|bearer", "OAuth 2.0 Bearer tokens (RFC 8898) on REGISTER, PUBLISH and "  \
				 "SUBSCRIBE (default none)")                                    \
	X("jwks", "FILE", "JWK Set of the token signers' keys; required with --auth bearer, "   \
			  "reloaded by SIGHUP and sprctl auth.reload")                           \
	X("allow-hmac", "", "accept oct keys and HS256 tokens (default off)")                    \
	X("issuer", "ISS", "tokens' iss must equal ISS (default: not checked)")                  \
	X("audience", "AUD", "tokens' aud must be or contain AUD (default: not checked)")        \
	X("realm", "REALM", "realm of the Bearer challenge (default sprd)")                      \
	X("authz-server", "URL", "authorization server advertised in the challenge "             \
				 "(authz_server, RFC 8898 §2.3; default none)")                 \
	X("scope-register", "SCOPE", "scope REGISTER needs (default sip:register)")              \
	X("scope-presence", "SCOPE", "scope PUBLISH and SUBSCRIBE need (default sip:presence)")  \
	X("user-claim", "CLAIM", "claim naming the user, compared with the AOR's user "           \
				 "(default sub)")                                               \
	X("clock-skew", "SECONDS", "leeway for exp, nbf and iat (default 30)")                  \
	X("token-cache-size", "N", "token cache entries (default 65536)")                         \
	X("max-token-bytes", "BYTES", "longer tokens are refused unread (default 8192)")          \
	X("help", "", "this text")

void spr_config_defaults(struct spr_config *c);

/*
 * Apply the options in argv[0..argc) (sprd's own, after the EAL's "--").
 * Returns 0, 1 when --help was asked, or -EINVAL with a message in err.
 */
int spr_config_parse_args(struct spr_config *c, int argc, char **argv, char *err, uint32_t errlen);

/* Apply a config file. 0 or -errno with a message (file:line: …) in err. */
int spr_config_load_file(struct spr_config *c, const char *path, char *err, uint32_t errlen);

/* Cross-option checks once everything is applied. 0 or -EINVAL with err. */
int spr_config_check(struct spr_config *c, char *err, uint32_t errlen);

/* The --help text. */
void spr_config_usage(FILE *f, const char *prog);

#endif /* SPR_CONFIG_H */
