// SPDX-License-Identifier: GPL-2.0
/*
 * A node's keys (the uapi header's HELLO and KEY_ADD): named secrets with a
 * role, each held as a keyed hmac(sha256) transform set up in process
 * context. HELLO proves a key from softirq: a lookup under RCU and two
 * synchronous HMACs, nothing that sleeps. The member keys, current and next,
 * are the cluster key: they sign and check ring pushes and prove the node to
 * the other members.
 *
 * Nothing here knows about connections or nodes: whoever removes a key
 * closes what used it.
 */

#include <crypto/algapi.h>
#include <crypto/hash.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "auth.h"

/* Keys are freed here, after a grace period: freeing a transform may sleep. */
static struct workqueue_struct *cp_auth_wq __ro_after_init;

static const char label_node[] = "cachepeer hello v1 node";
static const char label_client[] = "cachepeer hello v1 client";

static void key_free_work(struct work_struct *work)
{
	struct cp_key *key = container_of(to_rcu_work(work), struct cp_key, free);

	crypto_free_shash(key->tfm);
	kfree_sensitive(key);
}

/* Any context. */
void cp_key_put(struct cp_key *key)
{
	if (key && refcount_dec_and_test(&key->ref))
		queue_rcu_work(cp_auth_wq, &key->free);
}

static struct cp_key *key_new(const char *name, u8 role, const void *secret, size_t len)
{
	struct cp_key *key = kzalloc(sizeof(*key), GFP_KERNEL);
	struct crypto_shash *sha;
	u8 digest[32];
	int err;

	if (!key)
		return ERR_PTR(-ENOMEM);
	key->tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);
	sha = crypto_alloc_shash("sha256", 0, 0);
	err = PTR_ERR_OR_ZERO(key->tfm) ?: PTR_ERR_OR_ZERO(sha) ?:
	      crypto_shash_setkey(key->tfm, secret, len) ?:
	      crypto_shash_tfm_digest(sha, secret, len, digest);
	if (!IS_ERR(sha))
		crypto_free_shash(sha);
	if (err) {
		if (!IS_ERR(key->tfm))
			crypto_free_shash(key->tfm);
		kfree(key);
		return ERR_PTR(err);
	}
	memcpy(key->fpr, digest, CP_FPR_LEN);
	if (name)
		strscpy(key->name, name);
	else
		snprintf(key->name, sizeof(key->name), CP_MEMBER_PREFIX "%*phN", CP_FPR_LEN,
			 key->fpr);
	key->name_len = strlen(key->name);
	key->role = role;
	refcount_set(&key->ref, 1);
	INIT_RCU_WORK(&key->free, key_free_work);
	return key;
}

#define CP_SLOTS	(2 + CACHEPEER_KEYS_MAX)

/* Slot i of all: the member keys first, then the clients'. */
static struct cp_key __rcu **slot_at(struct cp_keys *k, unsigned int i)
{
	return i < ARRAY_SIZE(k->member) ? &k->member[i] : &k->key[i - ARRAY_SIZE(k->member)];
}

static struct cp_key *deref(struct cp_key __rcu **slot)
{
	return rcu_dereference_protected(*slot, true);
}

/* Node's lock held: a key's slot by name, or NULL. */
static struct cp_key __rcu **find_slot(struct cp_keys *k, const char *name)
{
	unsigned int i;

	for (i = 0; i < CP_SLOTS; i++)
		if (deref(slot_at(k, i)) && !strcmp(deref(slot_at(k, i))->name, name))
			return slot_at(k, i);
	return NULL;
}

void cp_keys_init(struct cp_keys *k)
{
	memset(k, 0, sizeof(*k));
	seqcount_init(&k->member_seq);
}

/*
 * The node's lock held: around moving the member keys between slots. With
 * BHs off, so that a lookup from softirq cannot spin on this CPU.
 */
static void member_move_begin(struct cp_keys *k)
{
	local_bh_disable();
	write_seqcount_begin(&k->member_seq);
}

static void member_move_end(struct cp_keys *k)
{
	write_seqcount_end(&k->member_seq);
	local_bh_enable();
}

/* The node is gone: nothing uses its keys any more. */
void cp_keys_exit(struct cp_keys *k)
{
	unsigned int i;

	for (i = 0; i < CP_SLOTS; i++)
		cp_key_put(deref(slot_at(k, i)));
	memset(k, 0, sizeof(*k));
}

/* Process context, the node's lock held. name is valid and not a member key's. */
int cp_keys_add(struct cp_keys *k, const char *name, u8 role, const void *secret, size_t len)
{
	struct cp_key __rcu **free = NULL;
	struct cp_key *key;
	unsigned int i;

	if (find_slot(k, name))
		return -EEXIST;
	for (i = 0; i < ARRAY_SIZE(k->key) && !free; i++)
		if (!deref(&k->key[i]))
			free = &k->key[i];
	if (!free)
		return -ENOSPC;
	key = key_new(name, role, secret, len);
	if (IS_ERR(key))
		return PTR_ERR(key);
	rcu_assign_pointer(*free, key);
	atomic_inc(&k->n);
	return 0;
}

/* The node's lock held: take key out of slot; the caller has its reference. */
static struct cp_key *unlink_slot(struct cp_keys *k, struct cp_key __rcu **slot)
{
	struct cp_key *key = deref(slot);

	WRITE_ONCE(key->dead, true);
	RCU_INIT_POINTER(*slot, NULL);
	atomic_dec(&k->n);
	return key;
}

/*
 * Process context, the node's lock held. The key removed, whose reference
 * the caller now holds: once a grace period has passed, no HELLO can
 * complete with it, and the caller closes the connections that use it.
 * Removing the current member key makes the next one current.
 */
struct cp_key *cp_keys_del(struct cp_keys *k, const char *name)
{
	struct cp_key __rcu **slot = find_slot(k, name);
	struct cp_key *key, *next;

	if (!slot)
		return ERR_PTR(-ENOENT);
	if (slot != &k->member[0] || !deref(&k->member[1]))
		return unlink_slot(k, slot);
	next = deref(&k->member[1]);
	member_move_begin(k);
	key = unlink_slot(k, slot);
	WRITE_ONCE(next->next, false);
	rcu_assign_pointer(k->member[0], next);
	RCU_INIT_POINTER(k->member[1], NULL);
	member_move_end(k);
	return key;
}

/*
 * Process context, the node's lock held: set the current (or the next)
 * member key. Setting as current the key that is the next swaps the two,
 * so a cluster can move to a new key node by node. A key replaced outright
 * goes to *gone (or NULL), for the caller as with cp_keys_del().
 */
int cp_keys_set_member(struct cp_keys *k, const void *secret, size_t len, bool next,
		       struct cp_key **gone)
{
	struct cp_key *key = key_new(NULL, CACHEPEER_ROLE_MEMBER, secret, len);
	struct cp_key *cur = deref(&k->member[0]), *nxt = deref(&k->member[1]);

	*gone = NULL;
	if (IS_ERR(key))
		return PTR_ERR(key);
	if (next && !cur) {
		/* A next key is one to move to: there must be one to move from. */
		cp_key_put(key);
		return -ENOKEY;
	}
	if (!next && nxt && !memcmp(nxt->fpr, key->fpr, CP_FPR_LEN)) {
		/* The next becomes the current, and the current the next. */
		cp_key_put(key);
		member_move_begin(k);
		WRITE_ONCE(nxt->next, false);
		WRITE_ONCE(cur->next, true);
		rcu_assign_pointer(k->member[0], nxt);
		rcu_assign_pointer(k->member[1], cur);
		member_move_end(k);
		return 0;
	}
	if (cur && !memcmp(cur->fpr, key->fpr, CP_FPR_LEN)) {
		cp_key_put(key);
		return next ? -EEXIST : 0;	/* the current cannot be the next too */
	}
	if (nxt && !memcmp(nxt->fpr, key->fpr, CP_FPR_LEN)) {
		cp_key_put(key);
		return 0;			/* already the next */
	}
	key->next = next;
	if (deref(&k->member[next]))
		*gone = unlink_slot(k, &k->member[next]);
	rcu_assign_pointer(k->member[next], key);
	atomic_inc(&k->n);
	return 0;
}

/* Any context: the key named so, referenced, or NULL. */
struct cp_key *cp_keys_get(struct cp_keys *k, const void *name, size_t len)
{
	struct cp_key *key, *found = NULL;
	unsigned int i, seq;

	rcu_read_lock();
	do {
		seq = read_seqcount_begin(&k->member_seq);
		for (i = 0; i < CP_SLOTS && !found; i++) {
			key = rcu_dereference(*slot_at(k, i));
			if (key && key->name_len == len && !memcmp(key->name, name, len) &&
			    refcount_inc_not_zero(&key->ref))
				found = key;
		}
	} while (!found && read_seqcount_retry(&k->member_seq, seq));
	rcu_read_unlock();
	return found;
}

/* Any context: the current member key, referenced, or NULL. */
struct cp_key *cp_keys_member(struct cp_keys *k)
{
	struct cp_key *key;

	rcu_read_lock();
	key = rcu_dereference(k->member[0]);
	if (key && !refcount_inc_not_zero(&key->ref))
		key = NULL;
	rcu_read_unlock();
	return key;
}

/*
 * Report the keys, from the skip'th on, to fn until it returns non-zero;
 * fn runs under RCU. Returns how many fn took.
 */
int cp_keys_for_each(struct cp_keys *k, unsigned long skip,
		     int (*fn)(const struct cp_key *key, void *arg), void *arg)
{
	const struct cp_key *key;
	unsigned int i;
	int done = 0;

	rcu_read_lock();
	for (i = 0; i < CP_SLOTS; i++) {
		key = rcu_dereference(*slot_at(k, i));
		if (!key)
			continue;
		if (skip) {
			skip--;
			continue;
		}
		if (fn(key, arg))
			break;
		done++;
	}
	rcu_read_unlock();
	return done;
}

/* Any context: HMAC a ring push under the current member key. -ENOKEY without one. */
int cp_keys_sign(struct cp_keys *k, const void *data, size_t len, u8 *mac)
{
	struct cp_key *key = cp_keys_member(k);
	int err;

	if (!key)
		return -ENOKEY;
	err = crypto_shash_tfm_digest(key->tfm, data, len, mac);
	cp_key_put(key);
	return err;
}

/* Any context: is mac data's HMAC under the current or the next member key? */
bool cp_keys_verify(struct cp_keys *k, const void *data, size_t len, const u8 *mac)
{
	u8 want[CACHEPEER_HMAC_LEN];
	unsigned int i, seq;
	bool ok = false;

	rcu_read_lock();
	do {
		seq = read_seqcount_begin(&k->member_seq);
		for (i = 0; i < ARRAY_SIZE(k->member) && !ok; i++) {
			struct cp_key *key = rcu_dereference(k->member[i]);

			ok = key && !crypto_shash_tfm_digest(key->tfm, data, len, want) &&
			     !crypto_memneq(want, mac, sizeof(want));
		}
	} while (!ok && read_seqcount_retry(&k->member_seq, seq));
	rcu_read_unlock();
	memzero_explicit(want, sizeof(want));
	return ok;
}

/*
 * Any context, softirq included: the node's (or the client's) HELLO proof
 * under key, as the uapi header defines it.
 */
int cp_key_proof(const struct cp_key *key, bool node, const u8 *cnonce, const u8 *snonce,
		 u8 role, u8 *proof)
{
	SHASH_DESC_ON_STACK(desc, key->tfm);
	const char *label = node ? label_node : label_client;
	u8 name_len = key->name_len;
	int err;

	desc->tfm = key->tfm;
	err = crypto_shash_init(desc) ?:
	      crypto_shash_update(desc, label, strlen(label)) ?:
	      crypto_shash_update(desc, cnonce, CACHEPEER_NONCE_LEN) ?:
	      crypto_shash_update(desc, snonce, CACHEPEER_NONCE_LEN) ?:
	      crypto_shash_update(desc, &name_len, 1) ?:
	      crypto_shash_update(desc, key->name, name_len) ?:
	      crypto_shash_update(desc, &role, 1) ?:
	      crypto_shash_final(desc, proof);
	shash_desc_zero(desc);
	return err;
}

int __init cp_auth_init(void)
{
	cp_auth_wq = alloc_workqueue("cachepeer_auth", WQ_UNBOUND, 0);
	return cp_auth_wq ? 0 : -ENOMEM;
}

void cp_auth_exit(void)
{
	/* queue_rcu_work() queues after a grace period: wait for those first. */
	rcu_barrier();
	destroy_workqueue(cp_auth_wq);
}
