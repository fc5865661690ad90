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
