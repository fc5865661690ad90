/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"

#define SPRD_VERSION "0.1.0"

void
spr_config_defaults(struct spr_config *c)
{
	memset(c, 0, sizeof(*c));
	c->io = SPR_IO_SOCKET;
	c->workers = 1;
	c->mbufs = 4096;
	c->mbuf_size = 8192;
	c->init_aors = 65536;
	c->max_timers = 4u << 20;
	spr_reg_cfg_default(&c->reg);
	spr_pres_cfg_default(&c->pres);
	spr_subs_cfg_default(&c->subs);
	c->notify_min_interval_ms = 1000;
	c->max_list_members = 100;
	c->sip_t1_ms = 500;
	snprintf(c->ctl_path, sizeof(c->ctl_path), "/run/sprd/sprd.sock");
	snprintf(c->server, sizeof(c->server), "sprd/" SPRD_VERSION);
	c->log_level = 2;
	c->auth = (struct spr_auth_cfg){
		.scope_register = SPR_AUTH_DEF_SCOPE_REGISTER,
		.scope_presence = SPR_AUTH_DEF_SCOPE_PRESENCE,
		.user_claim = SPR_AUTH_DEF_USER_CLAIM,
		.realm = "sprd",
		.clock_skew = SPR_AUTH_DEF_CLOCK_SKEW,
		.max_token_bytes = SPR_AUTH_DEF_MAX_TOKEN_BYTES,
		.token_cache_size = SPR_AUTH_DEF_CACHE_SIZE,
		.neg_ttl = SPR_AUTH_DEF_NEG_TTL,
		.pos_ttl = SPR_AUTH_DEF_POS_TTL,
	};
}

/*
 * The string options of --auth: their storage, and whether the value is
 * quoted in WWW-Authenticate (RFC 6750 §3: no '"', no '\\', printable).
 */
static const struct {
	const char *name;
	size_t off; /* of the const char * in struct spr_auth_cfg */
	bool quoted;
} auth_str_opts[] = {
	{"jwks", offsetof(struct spr_auth_cfg, jwks_path), false},
	{"issuer", offsetof(struct spr_auth_cfg, issuer), false},
	{"audience", offsetof(struct spr_auth_cfg, audience), false},
	{"realm", offsetof(struct spr_auth_cfg, realm), true},
	{"authz-server", offsetof(struct spr_auth_cfg, authz_server), true},
	{"scope-register", offsetof(struct spr_auth_cfg, scope_register), true},
	{"scope-presence", offsetof(struct spr_auth_cfg, scope_presence), true},
	{"user-claim", offsetof(struct spr_auth_cfg, user_claim), false},
};

/* 1: an --auth string option, applied; 0: not one; -1: bad value. */
static int
apply_auth_str(struct spr_config *c, const char *name, const char *v)
{
	for (size_t i = 0; i < sizeof(auth_str_opts) / sizeof(auth_str_opts[0]); i++) {
		if (strcmp(name, auth_str_opts[i].name) != 0)
			continue;
		if (v == NULL || strlen(v) >= sizeof(c->auth_str[i]))
			return -1;
		for (const char *p = v; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f ||
			    (auth_str_opts[i].quoted && (*p == '"' || *p == '\\')))
				return -1;
		snprintf(c->auth_str[i], sizeof(c->auth_str[i]), "%s", v);
		*(const char **)((char *)&c->auth + auth_str_opts[i].off) = c->auth_str[i];
		return 1;
	}
	return 0;
}

static int
parse_u32(const char *v, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long x;

	errno = 0;
	x = strtoul(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || v[0] == '-' || x < min || x > max)
		return -1;
	*out = (uint32_t)x;
	return 0;
}

/* "IP:PORT", "[IPv6]:PORT" or a bare IP (port 5060). */
static int
parse_listen(const char *v, struct spr_peer *p)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *port = NULL;
	uint32_t pv = 5060;
	size_t hl;

	memset(p, 0, sizeof(*p));
	if (v[0] == '[') {
		const char *rb = strchr(v, ']');

		if (rb == NULL || (size_t)(rb - v - 1) >= sizeof(host))
			return -1;
		hl = (size_t)(rb - v - 1);
		memcpy(host, v + 1, hl);
		if (rb[1] == ':')
			port = rb + 2;
		else if (rb[1] != '\0')
			return -1;
	} else {
		const char *colon = strrchr(v, ':');

		hl = colon != NULL ? (size_t)(colon - v) : strlen(v);
		if (hl >= sizeof(host))
			return -1;
		memcpy(host, v, hl);
		if (colon != NULL)
			port = colon + 1;
	}
	host[hl] = '\0';
	if (port != NULL && parse_u32(port, 1, 65535, &pv) != 0)
		return -1;
	p->port = (uint16_t)pv;
	if (inet_pton(AF_INET, host, p->addr) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, host, p->addr) == 1)
		p->family = AF_INET6;
	else
		return -1;
	return 0;
}

static int
add_domain(struct spr_config *c, const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || c->reg.n_domains == SPR_REG_DOMAINS_MAX ||
	    n > sizeof(c->domains_buf) - c->domains_used)
		return -1;
	memcpy(c->domains_buf + c->domains_used, v, n);
	c->reg.domains[c->reg.n_domains++] = (struct spr_str){c->domains_buf + c->domains_used,
							      (uint32_t)n};
	c->domains_used += (uint32_t)n;
	return 0;
}

/* One option by name; value NULL for switches. 0, or -1 with err set. */
static int
apply(struct spr_config *c, const char *name, const char *v, char *err, uint32_t errlen)
{
	uint32_t x;
	int r;

#define NEED_U32(min, max, field)                                                                  \
	do {                                                                                       \
		if (v == NULL || parse_u32(v, (min), (max), &x) != 0)                              \
			goto bad_range;                                                            \
		field = x;                                                                         \
	} while (0)

	if (strcmp(name, "io") == 0) {
		if (v != NULL && strcmp(v, "socket") == 0)
			c->io = SPR_IO_SOCKET;
		else if (v != NULL && strcmp(v, "dpdk") == 0)
			c->io = SPR_IO_DPDK;
		else
			goto bad_value;
	} else if (strcmp(name, "listen") == 0) {
		if (v == NULL || c->listen.n == SPR_IO_ADDRS_MAX ||
		    parse_listen(v, &c->listen.a[c->listen.n]) != 0)
			goto bad_value;
		c->listen.n++;
	} else if (strcmp(name, "domain") == 0) {
		if (v == NULL || add_domain(c, v) != 0)
			goto bad_value;
	} else if (strcmp(name, "workers") == 0) {
		NEED_U32(1, 16, c->workers);
	} else if (strcmp(name, "port") == 0) {
		NEED_U32(0, 65535, c->port_id);
	} else if (strcmp(name, "mbufs") == 0) {
		NEED_U32(512, 1u << 20, c->mbufs);
	} else if (strcmp(name, "mbuf-size") == 0) {
		NEED_U32(1024, 65535 - 128, c->mbuf_size);
	} else if (strcmp(name, "min-expires") == 0) {
		NEED_U32(1, 86400 * 365, c->reg.min_expires);
	} else if (strcmp(name, "max-expires") == 0) {
		NEED_U32(1, 86400 * 365, c->reg.max_expires);
	} else if (strcmp(name, "default-expires") == 0) {
		NEED_U32(1, 86400 * 365, c->reg.default_expires);
	} else if (strcmp(name, "max-contacts") == 0) {
		NEED_U32(1, SPR_REG_CONTACTS_MAX, c->reg.max_contacts);
	} else if (strcmp(name, "mode") == 0) {
		if (v != NULL && strcmp(v, "b2bua") == 0)
			c->pres.mode = SPR_PRES_MODE_B2BUA;
		else if (v != NULL && strcmp(v, "p2p") == 0)
			c->pres.mode = SPR_PRES_MODE_P2P;
		else
			goto bad_value;
	} else if (strcmp(name, "presence-policy") == 0) {
		if (v != NULL && strcmp(v, "open") == 0)
			c->subs.policy = SPR_SUBS_POLICY_OPEN;
		else if (v != NULL && strcmp(v, "same-domain") == 0)
			c->subs.policy = SPR_SUBS_POLICY_SAME_DOMAIN;
		else if (v != NULL && strcmp(v, "registered") == 0)
			c->subs.policy = SPR_SUBS_POLICY_REGISTERED;
		else
			goto bad_value;
	} else if (strcmp(name, "default-publish-expires") == 0) {
		NEED_U32(1, 86400 * 365, c->pres.default_expires);
	} else if (strcmp(name, "max-publications") == 0) {
		NEED_U32(1, SPR_PRES_PUBS_MAX, c->pres.max_publications);
	} else if (strcmp(name, "max-watchers") == 0) {
		NEED_U32(1, SPR_SUBS_WATCHERS_MAX, c->subs.max_watchers);
	} else if (strcmp(name, "default-subscribe-expires") == 0) {
		NEED_U32(1, 86400 * 365, c->subs.default_expires);
	} else if (strcmp(name, "notify-min-interval") == 0) {
		NEED_U32(0, 3600 * 1000, c->notify_min_interval_ms);
	} else if (strcmp(name, "max-list-members") == 0) {
		NEED_U32(1, 1000, c->max_list_members);
	} else if (strcmp(name, "sip-t1") == 0) {
		NEED_U32(10, 60 * 1000, c->sip_t1_ms);
	} else if (strcmp(name, "drop-oldest") == 0) {
		c->reg.drop_oldest = true;
	} else if (strcmp(name, "init-aors") == 0) {
		NEED_U32(64, 1u << 26, c->init_aors);
	} else if (strcmp(name, "max-timers") == 0) {
		NEED_U32(1024, 1u << 28, c->max_timers);
	} else if (strcmp(name, "ctl") == 0) {
		if (v == NULL || strlen(v) == 0 || strlen(v) >= 108)
			goto bad_value;
		snprintf(c->ctl_path, sizeof(c->ctl_path), "%s", v);
	} else if (strcmp(name, "server") == 0) {
		if (v == NULL || strlen(v) >= sizeof(c->server) || strpbrk(v, "\r\n") != NULL)
			goto bad_value;
		snprintf(c->server, sizeof(c->server), "%s", v);
	} else if (strcmp(name, "log-level") == 0) {
		static const char *const lv[] = {"error", "warning", "info", "debug"};
		int i;

		for (i = 0; i < 4 && (v == NULL || strcmp(v, lv[i]) != 0); i++)
			;
		if (i == 4)
			goto bad_value;
		c->log_level = i;
	} else if (strcmp(name, "auth") == 0) {
		if (v != NULL && strcmp(v, "none") == 0)
			c->auth.enabled = false;
		else if (v != NULL && strcmp(v, "bearer") == 0)
			c->auth.enabled = true;
		else
			goto bad_value;
	} else if ((r = apply_auth_str(c, name, v)) != 0) {
		if (r < 0)
			goto bad_value;
	} else if (strcmp(name, "allow-hmac") == 0) {
		c->auth.allow_hmac = true;
	} else if (strcmp(name, "clock-skew") == 0) {
		NEED_U32(0, 3600, c->auth.clock_skew);
	} else if (strcmp(name, "token-cache-size") == 0) {
		NEED_U32(64, 1u << 24, c->auth.token_cache_size);
	} else if (strcmp(name, "max-token-bytes") == 0) {
		NEED_U32(64, SPR_AUTH_MAX_TOKEN_BYTES_MAX, c->auth.max_token_bytes);
	} else if (strcmp(name, "config") == 0) {
		if (v == NULL || strlen(v) >= sizeof(c->config_path))
			goto bad_value;
		snprintf(c->config_path, sizeof(c->config_path), "%s", v);
	} else {
		snprintf(err, errlen, "unknown option '%s' (sprd --help lists them)", name);
		return -1;
	}
	return 0;
#undef NEED_U32

bad_range:
	snprintf(err, errlen, "option '%s': '%s' is not a whole number in range", name,
		 v ? v : "");
	return -1;
bad_value:
	snprintf(err, errlen, "option '%s': bad value '%s'", name, v ? v : "");
	return -1;
}

static bool
is_switch(const char *name)
{
	return strcmp(name, "drop-oldest") == 0 || strcmp(name, "help") == 0 ||
	       strcmp(name, "allow-hmac") == 0;
}

int
spr_config_parse_args(struct spr_config *c, int argc, char **argv, char *err, uint32_t errlen)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *name, *eq, *v = NULL;
		char nbuf[64];

		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			snprintf(err, errlen, "unexpected argument '%s' (options are --name VALUE)", a);
			return -EINVAL;
		}
		name = a + 2;
		if ((eq = strchr(name, '=')) != NULL) {
			if ((size_t)(eq - name) >= sizeof(nbuf)) {
				snprintf(err, errlen, "unknown option '%s'", a);
				return -EINVAL;
			}
			memcpy(nbuf, name, (size_t)(eq - name));
			nbuf[eq - name] = '\0';
			name = nbuf;
			v = eq + 1;
		}
		if (strcmp(name, "help") == 0)
			return 1;
		if (v == NULL && !is_switch(name)) {
			if (i + 1 >= argc) {
				snprintf(err, errlen, "option '--%s' needs a value", name);
				return -EINVAL;
			}
			v = argv[++i];
		}
		if (apply(c, name, v, err, errlen) != 0)
			return -EINVAL;
	}
	return 0;
}

int
spr_config_load_file(struct spr_config *c, const char *path, char *err, uint32_t errlen)
{
	char line[1024], msg[512];
	FILE *f = fopen(path, "r");
	unsigned lineno = 0;

	if (f == NULL) {
		int e = errno;

		snprintf(err, errlen, "cannot read config %s: %s", path, strerror(e));
		return -e;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *eq, *name, *v, *end;

		lineno++;
		p[strcspn(p, "\r\n")] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		eq = strchr(p, '=');
		name = p;
		v = NULL;
		if (eq != NULL) {
			*eq = '\0';
			v = eq + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			end = v + strlen(v);
			while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
				*--end = '\0';
		}
		end = name + strlen(name);
		while (end > name && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (strcmp(name, "config") == 0 || strcmp(name, "help") == 0 ||
		    (v == NULL && !is_switch(name)) || apply(c, name, v, msg, sizeof(msg)) != 0) {
			if (strcmp(name, "config") == 0 || strcmp(name, "help") == 0)
				snprintf(msg, sizeof(msg), "'%s' cannot be used in a config file", name);
			else if (v == NULL && !is_switch(name))
				snprintf(msg, sizeof(msg), "'%s' needs '= value'", name);
			snprintf(err, errlen, "%s:%u: %s", path, lineno, msg);
			fclose(f);
			return -EINVAL;
		}
	}
	fclose(f);
	return 0;
}

int
spr_config_check(struct spr_config *c, char *err, uint32_t errlen)
{
	if (c->listen.n == 0) {
		parse_listen("127.0.0.1:5060", &c->listen.a[0]);
		c->listen.n = 1;
	}
	if (c->reg.min_expires > c->reg.max_expires) {
		snprintf(err, errlen, "min-expires (%u) is above max-expires (%u)", c->reg.min_expires,
			 c->reg.max_expires);
		return -EINVAL;
	}
	if (c->reg.default_expires < c->reg.min_expires ||
	    c->reg.default_expires > c->reg.max_expires) {
		snprintf(err, errlen, "default-expires (%u) is outside min-expires..max-expires (%u..%u)",
			 c->reg.default_expires, c->reg.min_expires, c->reg.max_expires);
		return -EINVAL;
	}
	if (c->pres.default_expires < c->reg.min_expires ||
	    c->pres.default_expires > c->reg.max_expires) {
		snprintf(err, errlen,
			 "default-publish-expires (%u) is outside min-expires..max-expires (%u..%u)",
			 c->pres.default_expires, c->reg.min_expires, c->reg.max_expires);
		return -EINVAL;
	}
	if (c->auth.enabled && (c->auth.jwks_path == NULL || c->auth.jwks_path[0] == '\0')) {
		snprintf(err, errlen, "--auth bearer needs --jwks FILE");
		return -EINVAL;
	}
	if (c->auth.scope_register[0] == '\0' || c->auth.scope_presence[0] == '\0' ||
	    c->auth.user_claim[0] == '\0') {
		snprintf(err, errlen, "scope-register, scope-presence and user-claim cannot be empty");
		return -EINVAL;
	}
	if (c->subs.default_expires < c->reg.min_expires ||
	    c->subs.default_expires > c->reg.max_expires) {
		snprintf(err, errlen,
			 "default-subscribe-expires (%u) is outside min-expires..max-expires (%u..%u)",
			 c->subs.default_expires, c->reg.min_expires, c->reg.max_expires);
		return -EINVAL;
	}
	{
		/* our Contact (200 to SUBSCRIBE, NOTIFY): the first listen address */
		char a[48];
		uint32_t al = spr_peer_format(&c->listen.a[0], a, sizeof(a));
		int n = snprintf(c->contact_buf, sizeof(c->contact_buf),
				 c->listen.a[0].family == AF_INET6 ? "<sip:[%.*s]:%u>" : "<sip:%.*s:%u>",
				 (int)al, a, c->listen.a[0].port);

		c->subs.contact = (struct spr_str){c->contact_buf, (uint32_t)n};
	}
	return 0;
}

void
spr_config_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [EAL options] -- [options]\n"
		"\n"
		"SIP registrar on DPDK. Without EAL options sprd starts the EAL with\n"
		"--no-huge --no-pci -m 1024, a per-process --file-prefix and one lcore per\n"
		"worker plus the control thread (no hugepages, no PCI device needed).\n"
		"Every option is also a config-file key: 'name = value'.\n\n",
		prog);
#define X(name, arg, help) fprintf(f, "  --%-18s %-22s %s\n", name, arg, help);
	SPR_FOREACH_OPTION(X)
#undef X
}
