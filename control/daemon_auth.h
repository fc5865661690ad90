/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The auth worker on the control thread (DESIGN §6): the JWK Set, the token
 * cache (its only writer), the hooks each worker gets (spr/auth_hook.h), the
 * verification of AUTH_NEEDED tokens and the decision sent back as
 * AUTH_RESULT, JWKS reload, and sprctl auth.stats / auth.reload.
 * Context: control thread only.
 */
#ifndef SPR_DAEMON_AUTH_H
#define SPR_DAEMON_AUTH_H

#include <stddef.h>

#include <spr/ring_msg.h>

struct sprd;
struct spr_ctl;

/* Load --jwks (before the EAL: a bad file is a start-up error). 0 / -errno with err. */
int spr_daemon_auth_load(struct sprd *d, char *err, size_t errlen);

/* Cache, hashers, and every worker's hooks; after the workers exist. 0 / -ENOMEM with err. */
int spr_daemon_auth_start(struct sprd *d, char *err, size_t errlen);

/* Verify the token of an AUTH_NEEDED, cache the verdict, decide, answer the owner. */
void spr_daemon_auth_needed(struct sprd *d, const struct spr_ring_msg *req);

/* Reload --jwks and flush the cache (SIGHUP, auth.reload). 0 / -errno with why. */
int spr_daemon_auth_reload(struct sprd *d, char *why, size_t whylen);

/* Register auth.stats and auth.reload. 0 / -errno. */
int spr_daemon_auth_ctl_register(struct sprd *d, struct spr_ctl *ctl);

/* Free everything; NULL parts are fine. After the workers stopped. */
void spr_daemon_auth_free(struct sprd *d);

#endif /* SPR_DAEMON_AUTH_H */
