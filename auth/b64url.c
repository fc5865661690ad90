/* SPDX-License-Identifier: BSD-3-Clause */
/* Strict base64url decoding (contract in jwks-int.h). */
#include <errno.h>
#include <stdint.h>

#include "jwks-int.h"

/* 1 + the 6-bit value for the base64url alphabet, 0 for every other byte ('=', '+', '/', space
 * ...). */
static const uint8_t b64url_val[256] = {
	['A'] = 1,  ['B'] = 2,	['C'] = 3,  ['D'] = 4,	['E'] = 5,  ['F'] = 6,	['G'] = 7,
	['H'] = 8,  ['I'] = 9,	['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14,
	['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21,
	['V'] = 22, ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28,
	['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35,
	['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
	['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49,
	['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
	['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['-'] = 63,
	['_'] = 64,
};

int
spr_b64url_decode(const char *in, uint32_t len, uint8_t *out, uint32_t cap)
{
	const uint8_t *p = (const uint8_t *)in;
	uint32_t rem = len % 4, full = len - rem, o = 0, i;
	uint64_t need = (uint64_t)full / 4 * 3 + (rem ? rem - 1 : 0);

	if (rem == 1 || need > cap || need > INT32_MAX)
		return -EBADMSG;
	for (i = 0; i < full; i += 4) {
		uint32_t a = b64url_val[p[i]], b = b64url_val[p[i + 1]];
		uint32_t c = b64url_val[p[i + 2]], d = b64url_val[p[i + 3]];

		if (a == 0 || b == 0 || c == 0 || d == 0)
			return -EBADMSG;
		a--, b--, c--, d--;
		uint32_t v = a << 18 | b << 12 | c << 6 | d;
		out[o++] = (uint8_t)(v >> 16);
		out[o++] = (uint8_t)(v >> 8);
		out[o++] = (uint8_t)v;
	}
	if (rem == 2) {
		uint32_t a = b64url_val[p[i]], b = b64url_val[p[i + 1]];

		/* one byte: the last char's low 4 bits are padding and must be 0 */
		if (a-- == 0 || b-- == 0 || (b & 0x0f))
			return -EBADMSG;
		out[o++] = (uint8_t)(a << 2 | b >> 4);
	} else if (rem == 3) {
		uint32_t a = b64url_val[p[i]], b = b64url_val[p[i + 1]], c = b64url_val[p[i + 2]];

		/* two bytes: the last char's low 2 bits must be 0 */
		if (a-- == 0 || b-- == 0 || c-- == 0 || (c & 0x03))
			return -EBADMSG;
		out[o++] = (uint8_t)(a << 2 | b >> 4);
		out[o++] = (uint8_t)(b << 4 | c >> 2);
	}
	return (int)o;
}
