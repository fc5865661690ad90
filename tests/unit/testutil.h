/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers shared by the unit tests. */
#ifndef SPR_TESTUTIL_H
#define SPR_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

/* The shared corpus folder ($SPR_TESTDATA, else ../shared/testdata), or NULL when absent. */
const char *spr_test_datadir(void);

/* Read a whole file into a malloc'd buffer (NUL appended, not counted). NULL on error. */
char *spr_test_read_file(const char *path, uint32_t *len);

/*
 * Copy text with every "\n" not preceded by "\r" turned into "\r\n", into a
 * malloc'd buffer; *len gets the length. Lets tests write messages readably.
 */
char *spr_test_crlf(const char *text, uint32_t *len);

/*
 * Place len bytes flush against a PROT_NONE page: any read at or past
 * buf + len faults. Returns the copy; free with spr_test_guard_free().
 */
char *spr_test_guard_copy(const void *buf, uint32_t len);
void spr_test_guard_free(char *p, uint32_t len);

/*
 * The request PDU of PROTOS c07-sip case n under dir ("<len> <request><len>
 * <teardown>") with its placeholders filled in; <Content-Length> becomes the
 * length of what follows the first CRLFCRLF. malloc'd; NULL when the file is
 * missing or not in that format.
 */
char *spr_test_protos_case(const char *dir, uint32_t n, uint32_t *len);

#endif
