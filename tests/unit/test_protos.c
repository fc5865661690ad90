/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PROTOS c07-sip (4,527 mutated INVITEs) through spr_sip_parse, each flush
 * against a guard page: nothing may crash, and each verdict must match
 * groups.tsv, except where the rule below, with its reason, decides.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include <spr/sip_msg.h>

#include "testutil.h"

/*
 * Cases where groups.tsv and RFC 3261 (with the parser contract in
 * include/spr/sip_msg.h) disagree. accept = the verdict this parser must give.
 */
static const struct {
	uint32_t first, last;
	bool accept;
	const char *why;
} overrides[] = {
	/* groups marked pass whose mutation breaks the grammar */
	{340, 374, false, "Via sent-by host with '%' is no hostname/IPv4/IPv6 (RFC 3261 §25.1)"},
	{389, 435, false, "Via sent-by host with NUL, '\\' or 8-bit octets (RFC 3261 §25.1)"},
	{437, 450, false, "Via sent-by \"host:::port\": no valid port (RFC 3261 §25.1)"},
	{454, 454, false, "Via port -1 (port = 1*DIGIT, RFC 3261 §25.1)"},
	{457, 457, false, "Via negative port"},
	{462, 462, false, "Via negative port"},
	{465, 465, false, "Via negative port"},
	{473, 497, false, "Via port negative or above 65535"},
	{646, 657, false, "unquoted display-name of 8-bit octets is no token (RFC 4475 §3.1.2.14)"},
	{675, 710, false,
	 "unquoted display-name with NUL or '\\' is no token (RFC 4475 §3.1.2.14)"},
	{743, 822, false,
	 "unquoted display-name with 8-bit, ESC, ';' or CTL octets (RFC 4475 §3.1.2.14)"},
	{920, 929, false, "From URI \"sip:::::host\": no host (as request-uri exceptions 218-228)"},
	{932, 932, false, "From URI \"sip::::...host\": no host (as request-uri exception 230)"},
	{939, 941, false, "From URI with repeated '@' (as request-uri exceptions 237-240)"},
	{973, 984, false, "Contact display-name of 8-bit octets (RFC 4475 §3.1.2.14)"},
	{1002, 1037, false, "Contact display-name with NUL or '\\' (RFC 4475 §3.1.2.14)"},
	{1070, 1149, false, "Contact display-name with 8-bit, ESC, ';' or CTL octets"},
	{1174, 1183, false, "Contact URI \"sip:::::host\": no host (as request-uri 218-228)"},
	{1186, 1186, false, "Contact URI \"sip::::...host\": no host (as request-uri 230)"},
	{1193, 1195, false, "Contact URI with repeated '@' (as request-uri 237-240)"},
	{1243, 1257, false,
	 "the To header name is mutated: no To (RFC 3261 §8.1.1), or a bad line"},
	{1259, 1285, false, "the To header name is mutated, or the line folds into From"},
	{1287, 1435, false, "the To header name is mutated: no To, or a malformed header line"},
	{1468, 1468, false,
	 "Call-ID \"@host\": empty word (callid = word [\"@\" word], RFC 3261 §25.1)"},
	{1484, 1510, false, "Call-ID with octets outside word (RFC 3261 §25.1)"},
	{1512, 1548, false, "Call-ID with octets outside word (RFC 3261 §25.1)"},
	{1581, 1658, false, "Call-ID with octets outside word (RFC 3261 §25.1)"},
	{1660, 1660, false, "Call-ID with octets outside word (RFC 3261 §25.1)"},
	{1662, 1675, false, "Call-ID with several '@' (callid = word [\"@\" word])"},
	{1736, 1782, false,
	 "Call-ID host part with NUL, 8-bit or ';' octets (RFC 3261 §25.1 word)"},
	{2114, 2128, false, "Content-Type empty or without \"/\" subtype (RFC 3261 §20.15)"},
	{2130, 2156, false, "Content-Type of 8-bit octets or blanks: no type/subtype"},
	{2158, 2226, false, "Content-Type with NUL, '%'-only or no subtype: no type/subtype"},
	{2249, 2258, false, "Content-Type \"application/////sip\": subtype is no token"},
	{2281, 2360, false, "Content-Type of 8-bit, ESC or CTL octets: no type/subtype"},
	/* groups marked fail whose value is in fact valid */
	{834, 847, true, "From ;name=token with a long or %-token name: a valid generic-param"},
	{849, 852, true, "From ;%.999d...=token / ;tagtoken: valid generic-params"},
	{864, 873, true, "From ;tag= with a long token value: valid"},
	{1783, 1784, true, "Expires 0, 1: delta-seconds (RFC 3261 §20.19)"},
	{1786, 1787, true, "Expires 31, 32"},
	{1789, 1792, true, "Expires 63..128"},
	{1794, 1795, true, "Expires 255, 256"},
	{1797, 1804, true, "Expires 1023..65536"},
	{1806, 1809, true, "Expires 2^24-1..2^30"},
	{1811, 1812, true, "Expires 2^31-1, 2^31"},
	{1815, 1828, true, "Expires beyond 2^32-1: clamped to 2^32-1 (RFC 3261 §20.19)"},
	{1829, 1830, true, "Max-Forwards 0, 1: within 0..255 (RFC 3261 §20.22)"},
	{1832, 1833, true, "Max-Forwards 31, 32"},
	{1835, 1838, true, "Max-Forwards 63..128"},
	{1840, 1840, true, "Max-Forwards 255"},
	{1875, 1876, true, "CSeq 0, 1: below 2^31 (RFC 3261 §8.1.1.5)"},
	{1878, 1879, true, "CSeq 31, 32"},
	{1881, 1884, true, "CSeq 63..128"},
	{1886, 1887, true, "CSeq 255, 256"},
	{1889, 1896, true, "CSeq 1023..2^24"},
	{1898, 1901, true, "CSeq 2^30-1..2^31-1"},
	{1903, 1903, true, "CSeq 2^31-1"},
	{2361, 2362, true, "Content-Length 0, 1 within the datagram: the rest is not the message"},
	{2364, 2365, true, "Content-Length 31, 32 within the datagram (RFC 3261 §18.3)"},
	{2367, 2370, true, "Content-Length 63..128 within the datagram (RFC 3261 §18.3)"},
};

#define NCASES 4527u

struct group {
	char name[64];
	uint32_t first, count;
	bool pass;
	char exceptions[512];
	uint32_t accepted, rejected, overridden, excepted, too_large;
};

static bool
in_list(const char *list, uint32_t n)
{
	const char *p = list;

	if (list[0] == '\0' || list[0] == '(')
		return false;
	while (*p != '\0') {
		char *end;
		unsigned long a = strtoul(p, &end, 10), b = a;
		if (*end == '-')
			b = strtoul(end + 1, &end, 10);
		if (n >= a && n <= b)
			return true;
		if (*end != ',')
			break;
		p = end + 1;
	}
	return false;
}

static int
override_of(uint32_t n)
{
	for (unsigned i = 0; i < sizeof(overrides) / sizeof(overrides[0]); i++)
		if (n >= overrides[i].first && n <= overrides[i].last)
			return (int)i;
	return -1;
}

/* A PROTOS case with its placeholders filled (testutil.c); the test fails when it is unreadable. */
static char *
load_case(const char *dir, uint32_t n, uint32_t *len)
{
	char *msg = spr_test_protos_case(dir, n, len);

	if (msg == NULL)
		fail_msg("PROTOS case %07u under %s is missing or malformed", n, dir);
	return msg;
}

static void
test_protos(void **state)
{
	static struct group groups[64];
	char dir[2048], path[4096], line[1024];
	struct spr_sip_msg *m;
	unsigned ng = 0, failures = 0;
	uint32_t total_acc = 0, total_rej = 0;
	struct stat st;
	FILE *f;

	(void)state;
	if (spr_test_datadir() == NULL) {
		printf("SKIP: no test corpus ($SPR_TESTDATA or ../shared/testdata)\n");
		skip();
	}
	if ((size_t)snprintf(dir, sizeof(dir), "%s/protos-c07-sip", spr_test_datadir()) >=
	    sizeof(dir))
		fail_msg("corpus path too long");
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		printf("SKIP: %s absent\n", dir);
		skip();
	}
	snprintf(path, sizeof(path), "%s/groups.tsv", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL && ng < 64) {
		struct group *g = &groups[ng];
		char expect[16];
		if (line[0] == '#')
			continue;
		line[strcspn(line, "\r\n")] = '\0';
		g->exceptions[0] = '\0';
		if (sscanf(line, "%63[^\t]\t%u\t%u\t%15[^\t]\t%511[^\n]", g->name, &g->first,
			   &g->count, expect, g->exceptions) < 4)
			continue;
		g->pass = strcmp(expect, "pass") == 0;
		ng++;
	}
	fclose(f);
	assert_true(ng > 0);

	m = malloc(sizeof(*m));
	for (unsigned gi = 0; gi < ng; gi++) {
		struct group *g = &groups[gi];
		for (uint32_t n = g->first; n < g->first + g->count && n < NCASES; n++) {
			uint32_t len;
			char *text = load_case(dir, n, &len);
			char *buf = spr_test_guard_copy(text, len);
			int rc = spr_sip_parse(buf, len, NULL, m), ov = override_of(n);
			bool accepted = rc > 0, want;

			assert_true(rc > 0 || rc == -EBADMSG);
			if (accepted)
				g->accepted++;
			else
				g->rejected++;
			if (len > SPR_SIP_MSG_MAX) {
				/* no datagram is this large: 513 (RFC 3261 §18.1.1) */
				g->too_large++;
				if (rc != -EBADMSG || m->err != SPR_SIP_ERR_TOO_LARGE) {
					printf("case %u (%u bytes): want TOO_LARGE, got rc %d %s\n",
					       n, len, rc,
					       spr_sip_err_name((enum spr_sip_err)m->err));
					failures++;
				}
			} else if (in_list(g->exceptions, n)) {
				g->excepted++;
			} else {
				want = ov >= 0 ? overrides[ov].accept : g->pass;
				if (ov >= 0)
					g->overridden++;
				if (accepted != want) {
					printf("case %u (%s, %s): rc %d err %s\n", n, g->name,
					       ov >= 0 ? overrides[ov].why : "groups.tsv", rc,
					       spr_sip_err_name((enum spr_sip_err)m->err));
					failures++;
				}
			}
			spr_test_guard_free(buf, len);
			free(text);
		}
		total_acc += g->accepted;
		total_rej += g->rejected;
	}
	free(m);

	printf("%-30s %-4s %5s %5s %5s %5s %5s %5s\n", "group", "exp", "cases", "acc", "rej",
	       "over", "exc", "big");
	for (unsigned gi = 0; gi < ng; gi++)
		printf("%-30s %-4s %5u %5u %5u %5u %5u %5u\n", groups[gi].name,
		       groups[gi].pass ? "pass" : "fail", groups[gi].count, groups[gi].accepted,
		       groups[gi].rejected, groups[gi].overridden, groups[gi].excepted,
		       groups[gi].too_large);
	printf("total: %u accepted, %u rejected, %u verdict mismatches\n", total_acc, total_rej,
	       failures);
	assert_int_equal(failures, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_protos),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
