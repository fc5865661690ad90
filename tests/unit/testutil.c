/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

const char *
spr_test_datadir(void)
{
	static char path[4096];
	struct stat st;
	const char *env = getenv("SPR_TESTDATA");

	snprintf(path, sizeof(path), "%s", env && env[0] ? env : "../shared/testdata");
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return NULL;
	return path;
}

char *
spr_test_read_file(const char *path, uint32_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	buf = malloc((size_t)n + 1);
	if (buf == NULL)
		goto out;
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
		goto out;
	}
	buf[n] = '\0';
	*len = (uint32_t)n;
out:
	fclose(f);
	return buf;
}

char *
spr_test_crlf(const char *text, uint32_t *len)
{
	size_t n = strlen(text);
	char *out = malloc(2 * n + 1);
	size_t j = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
			out[j++] = '\r';
		out[j++] = text[i];
	}
	out[j] = '\0';
	*len = (uint32_t)j;
	return out;
}

char *
spr_test_guard_copy(const void *buf, uint32_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t data_pages = (len + pg - 1) / pg;
	size_t total = (data_pages + 1) * pg;
	char *base = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (base == MAP_FAILED)
		return NULL;
	if (mprotect(base + data_pages * pg, pg, PROT_NONE) != 0) {
		munmap(base, total);
		return NULL;
	}
	char *p = base + data_pages * pg - len;
	memcpy(p, buf, len);
	return p;
}

void
spr_test_guard_free(char *p, uint32_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t data_pages = (len + pg - 1) / pg;
	char *base = p + len - data_pages * pg;

	munmap(base, (data_pages + 1) * pg);
}

/* PROTOS placeholders and what stands in for them. */
static const struct {
	const char *from, *to;
} protos_subs[] = {
	{"<To>", "bob@sprd.test"},	 {"<From>", "protos@192.0.2.1"},
	{"<From-Address>", "192.0.2.1"}, {"<From-IP>", "192.0.2.1"},
	{"<Local-Port>", "5060"},	 {"<Branch-ID>", "a1b2c3"},
	{"<Call-ID>", "4527"},		 {"<CSeq>", "1"},
	{"<Teardown-Method>", "CANCEL"},
};

char *
spr_test_protos_case(const char *dir, uint32_t n, uint32_t *len)
{
	const size_t nsubs = sizeof(protos_subs) / sizeof(protos_subs[0]);
	char path[4096 + 32];
	uint32_t flen, o = 0, cl_at = UINT32_MAX;
	char *raw, *out = NULL, *sp, *blank;
	unsigned long plen;
	size_t cap;

	snprintf(path, sizeof(path), "%s/cases/%07u", dir, n);
	raw = spr_test_read_file(path, &flen);
	if (raw == NULL)
		return NULL;
	plen = strtoul(raw, &sp, 10);
	if (*sp != ' ' || plen > flen - (uint32_t)(sp + 1 - raw))
		goto out;
	cap = plen * 4 + 64;
	out = malloc(cap);
	if (out == NULL)
		goto out;
	for (const char *p = sp + 1, *e = sp + 1 + plen; p < e;) {
		size_t k = 0;

		while (k < nsubs && ((size_t)(e - p) < strlen(protos_subs[k].from) ||
				     memcmp(p, protos_subs[k].from, strlen(protos_subs[k].from)) != 0))
			k++;
		if (k < nsubs) {
			memcpy(out + o, protos_subs[k].to, strlen(protos_subs[k].to));
			o += (uint32_t)strlen(protos_subs[k].to);
			p += strlen(protos_subs[k].from);
		} else if ((size_t)(e - p) >= 16 && memcmp(p, "<Content-Length>", 16) == 0 &&
			   cl_at == UINT32_MAX) {
			cl_at = o;
			p += 16;
		} else {
			out[o++] = *p++;
		}
		if (o + 32 >= cap) {
			free(out);
			out = NULL;
			goto out;
		}
	}
	if (cl_at != UINT32_MAX) {
		char num[16];
		int nl;

		blank = memmem(out, o, "\r\n\r\n", 4);
		nl = snprintf(num, sizeof(num), "%u",
			      blank != NULL && (uint32_t)(blank - out) >= cl_at
				      ? o - (uint32_t)(blank + 4 - out)
				      : 0u);
		memmove(out + cl_at + nl, out + cl_at, o - cl_at);
		memcpy(out + cl_at, num, (size_t)nl);
		o += (uint32_t)nl;
	}
	*len = o;
out:
	free(raw);
	return out;
}
