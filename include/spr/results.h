/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Outcome tables (STYLE rule 5). A module lists its outcomes once as
 * X(NAME, code, "Reason Phrase"); that list gives its enum, and through the
 * two macros here its table and the three accessors every outcome table
 * has, so no module writes them by hand.
 */
#ifndef SPR_RESULTS_H
#define SPR_RESULTS_H

#include <stdint.h>

struct spr_result_desc {
	uint16_t code;
	const char *reason;
	const char *name;
};

/* One table row: use as `#define X(n, c, r) SPR_RESULT_ROW(SPR_REG_, n, c, r)`. */
#define SPR_RESULT_ROW(PREFIX, n, c, r) [PREFIX##n] = {c, r, #n},

/*
 * fn##_code(), fn##_reason() and fn##_name() of enum etype over table
 * (count entries); a value out of range reads as 500 Server Internal Error.
 */
#define SPR_RESULT_ACCESSORS(fn, etype, table, count)                                              \
	uint16_t fn##_code(etype r)                                                                \
	{                                                                                          \
		return (unsigned)r < (count) ? (table)[r].code : 500;                              \
	}                                                                                          \
	const char *fn##_reason(etype r)                                                           \
	{                                                                                          \
		return (unsigned)r < (count) ? (table)[r].reason : "Server Internal Error";        \
	}                                                                                          \
	const char *fn##_name(etype r)                                                             \
	{                                                                                          \
		return (unsigned)r < (count) ? (table)[r].name : "UNKNOWN";                        \
	}

#endif /* SPR_RESULTS_H */
