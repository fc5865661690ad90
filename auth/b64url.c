/* SPDX-License-Identifier: BSD-3-Clause */
/* Strict base64url decoding (contract in jwks-int.h) and encoding (jwt_mint.h). */
#include <errno.h>
#include <stdint.h>

#include "jwks-int.h"
#include "jwt_mint.h"

/*
 * The 6-bit value of each base64url character, 0x40 added so that 0 marks
 * every other byte ('=', '+', '/', space ...).
 */
static const uint8_t b64url_val[256] = {
	['A'] = 64, ['B'] = 65, ['C'] = 66, ['D'] = 67, ['E'] = 68, ['F'] = 69, ['G'] = 70,
	['H'] = 71, ['I'] = 72, ['J'] = 73, ['K'] = 74, ['L'] = 75, ['M'] = 76, ['N'] = 77,
	['O'] = 78, ['P'] = 79, ['Q'] = 80, ['R'] = 81, ['S'] = 82, ['T'] = 83, ['U'] = 84,
	['V'] = 85, ['W'] = 86, ['X'] = 87, ['Y'] = 88, ['Z'] = 89, ['a'] = 90, ['b'] = 91,
	['c'] = 92, ['d'] = 93, ['e'] = 94, ['f'] = 95, ['g'] = 96, ['h'] = 97, ['i'] = 98,
	['j'] = 99, ['k'] = 100, ['l'] = 101, ['m'] = 102, ['n'] = 103, ['o'] = 104, ['p'] = 105,
	['q'] = 106, ['r'] = 107, ['s'] = 108, ['t'] = 109, ['u'] = 110, ['v'] = 111, ['w'] = 112,
	['x'] = 113, ['y'] = 114, ['z'] = 115, ['0'] = 116, ['1'] = 117, ['2'] = 118, ['3'] = 119,
	['4'] = 120, ['5'] = 121, ['6'] = 122, ['7'] = 123, ['8'] = 124, ['9'] = 125, ['-'] = 126,
	['_'] = 127,
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

		/* every valid value has 0x40 set: one test for the four */
		if ((a & b & c & d & 0x40) == 0)
			return -EBADMSG;
		uint32_t v = (a & 63) << 18 | (b & 63) << 12 | (c & 63) << 6 | (d & 63);
		out[o++] = (uint8_t)(v >> 16);
		out[o++] = (uint8_t)(v >> 8);
		out[o++] = (uint8_t)v;
	}
	if (rem == 2) {
		uint32_t a = b64url_val[p[i]], b = b64url_val[p[i + 1]];

		/* one byte: the last char's low 4 bits are padding and must be 0 */
		if ((a & b & 0x40) == 0 || (b & 0x0f))
			return -EBADMSG;
		a &= 63;
		b &= 63;
		out[o++] = (uint8_t)(a << 2 | b >> 4);
	} else if (rem == 3) {
		uint32_t a = b64url_val[p[i]], b = b64url_val[p[i + 1]], c = b64url_val[p[i + 2]];

		/* two bytes: the last char's low 2 bits must be 0 */
		if ((a & b & c & 0x40) == 0 || (c & 0x03))
			return -EBADMSG;
		a &= 63;
		b &= 63;
		c &= 63;
		out[o++] = (uint8_t)(a << 2 | b >> 4);
		out[o++] = (uint8_t)(b << 4 | c >> 2);
	}
	return (int)o;
}

size_t
spr_b64url_encode(const void *in, size_t len, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const uint8_t *b = in;
	size_t o = 0, i;

	for (i = 0; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8 | b[i + 2];
		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}
	if (len - i == 1) {
		out[o++] = a[b[i] >> 2];
		out[o++] = a[(b[i] & 3) << 4];
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)b[i] << 8 | b[i + 1];
		out[o++] = a[v >> 10];
		out[o++] = a[(v >> 4) & 63];
		out[o++] = a[(v & 15) << 2];
	}
	out[o] = '\0';
	return o;
}
