/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inside auth/ only: a strict, bounded JSON reader (RFC 8259) for JOSE
 * headers and JWT claims, so a verification builds no tree.
 *
 * The whole text is checked, as strictly as jansson's json_loadb() with
 * JSON_REJECT_DUPLICATES (what sprd used before, so every verdict is
 * unchanged): one object and nothing after it but white space; strings of
 * valid UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF),
 * no raw control characters, only the escapes of RFC 8259 §7, \u escapes
 * paired for surrogates and never \u0000; numbers by the RFC's grammar,
 * integers within int64 and reals within double (overflow is an error,
 * underflow is not); no two members of one object with the same (decoded)
 * name, at any depth. Beyond jansson, bounded: at most SPR_JSON_DEPTH_MAX
 * nested objects/arrays, SPR_JSON_MEMBERS_MAX members per object (so the
 * duplicate check is cheap on hostile input), SPR_JSON_NUMBER_MAX
 * characters per number.
 *
 * Only the top-level members asked for by name are returned; nothing is
 * allocated. Context: any thread.
 */
#ifndef SPR_JSON_SCAN_H
#define SPR_JSON_SCAN_H

#include <stdint.h>

#define SPR_JSON_DEPTH_MAX 16u
#define SPR_JSON_MEMBERS_MAX 128u
#define SPR_JSON_NUMBER_MAX 64u
#define SPR_JSON_NAMES_MAX 16u /* names one scan may ask for */

enum spr_json_type {
	SPR_JSON_ABSENT, /* no member of that name */
	SPR_JSON_STRING,
	SPR_JSON_INT,
	SPR_JSON_REAL,
	SPR_JSON_TRUE,
	SPR_JSON_FALSE,
	SPR_JSON_NULL,
	SPR_JSON_ARRAY,
	SPR_JSON_OBJECT,
};

struct spr_json_val {
	uint8_t type;	    /* enum spr_json_type */
	const uint8_t *raw; /* the value's text ('[' .. ']' for an array) */
	uint32_t raw_len;
	const char *s; /* STRING: decoded bytes (no NUL inside; not terminated) */
	uint32_t slen;
	int64_t i; /* INT */
	double d;  /* REAL */
};

/* Where decoded strings go: cap bytes at least as long as the text they come from. */
struct spr_json_scratch {
	uint8_t *p;
	uint32_t cap, used;
};

/*
 * Check in[0..len) as above; for every top-level member whose name equals
 * names[k] (k < n; names may repeat), out[k] gets its value (ABSENT when
 * there is none). Returns 0, -EBADMSG, or -EINVAL for n > SPR_JSON_NAMES_MAX.
 */
int spr_json_object_scan(const uint8_t *in, uint32_t len, const char *const *names, uint32_t n,
			 struct spr_json_val *out, struct spr_json_scratch *sc);

/*
 * The elements of an ARRAY value returned by spr_json_object_scan, in
 * order: 1 and *v for the next one (strings decoded into sc), 0 at the end.
 * *pos starts at 0.
 */
int spr_json_array_next(const struct spr_json_val *arr, uint32_t *pos, struct spr_json_val *v,
			struct spr_json_scratch *sc);

#endif
