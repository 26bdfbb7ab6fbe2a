// SPDX-License-Identifier: GPL-2.0
/*
 * KEY_ADD, KEY_DEL and KEY_GET: the keys clients HELLO with. A secret goes
 * in and never comes out; a key is known by its name and a fingerprint.
 */

#include <net/sock.h>

#include "nl_priv.h"
#include "ring.h"

/* The request's key nest, parsed; -EINVAL with a message if it is missing. */
static int key_attrs(struct genl_info *info, struct nlattr **tb)
{
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, CACHEPEER_A_NODE_KEY))
		return -EINVAL;
	ret = nla_parse_nested(tb, CACHEPEER_A_KEY_SECRET, info->attrs[CACHEPEER_A_NODE_KEY],
			       cachepeer_key_nl_policy, info->extack);
	if (ret)
		return ret;
	ret = cp_nl_check_len(tb[CACHEPEER_A_KEY_SECRET], CACHEPEER_SECRET_MIN,
			      CACHEPEER_SECRET_MAX, "a secret", info->extack);
	if (ret)
		return ret;
	if (!tb[CACHEPEER_A_KEY_NAME]) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[CACHEPEER_A_NODE_KEY],
				    "a key needs a name");
		return -EINVAL;
	}
	return 0;
}

int cachepeer_nl_key_add_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_service *svc = cp_nl_service(info);
	struct nlattr *tb[CACHEPEER_A_KEY_SECRET + 1], *secret;
	const char *name;
	int ret;

	ret = key_attrs(info, tb);
	if (ret)
		return ret;
	name = nla_data(tb[CACHEPEER_A_KEY_NAME]);
	if (!cp_name_valid(name, strlen(name)) ||
	    !strncmp(name, CP_MEMBER_PREFIX, strlen(CP_MEMBER_PREFIX))) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[CACHEPEER_A_KEY_NAME],
				    "key names are 1-63 of [A-Za-z0-9._-], not member.*");
		return -EINVAL;
	}
	if (!tb[CACHEPEER_A_KEY_ROLE] || !tb[CACHEPEER_A_KEY_SECRET]) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[CACHEPEER_A_NODE_KEY],
				    "a key needs a role and a secret");
		return -EINVAL;
	}
	secret = tb[CACHEPEER_A_KEY_SECRET];
	mutex_lock(&svc->lock);
	ret = cp_keys_add(&svc->keys, name, nla_get_u8(tb[CACHEPEER_A_KEY_ROLE]),
			  nla_data(secret), nla_len(secret));
	mutex_unlock(&svc->lock);
	if (ret == -EEXIST)
		NL_SET_ERR_MSG_ATTR(info->extack, tb[CACHEPEER_A_KEY_NAME],
				    "a key of this name exists");
	else if (ret == -ENOSPC)
		GENL_SET_ERR_MSG_FMT(info, "the node has %d keys already", CACHEPEER_KEYS_MAX);
	else if (ret)
		GENL_SET_ERR_MSG(info, "cannot set up hmac(sha256) with this secret");
	return ret;
}

int cachepeer_nl_key_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct cp_service *svc = cp_nl_service(info);
	struct nlattr *tb[CACHEPEER_A_KEY_SECRET + 1];
	struct cp_key *key;
	int ret;

	ret = key_attrs(info, tb);
	if (ret)
		return ret;
	mutex_lock(&svc->lock);
	key = cp_keys_del(&svc->keys, nla_data(tb[CACHEPEER_A_KEY_NAME]));
	if (!IS_ERR(key))
		cp_service_drop_key(svc, key);
	mutex_unlock(&svc->lock);
	if (IS_ERR(key)) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[CACHEPEER_A_KEY_NAME], "no key of this name");
		return PTR_ERR(key);
	}
	return 0;
}

struct key_dump {
	struct sk_buff *skb;
	struct netlink_callback *cb;
};

/* Under RCU. */
static int put_key(const struct cp_key *key, void *arg)
{
	struct key_dump *kd = arg;
	struct sk_buff *skb = kd->skb;
	struct nlattr *nest;
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(kd->cb->skb).portid, kd->cb->nlh->nlmsg_seq,
			  &cp_genl_family, NLM_F_MULTI, CACHEPEER_CMD_KEY_GET);
	if (!hdr)
		return -EMSGSIZE;
	nest = nla_nest_start(skb, CACHEPEER_A_NODE_KEY);
	if (!nest ||
	    nla_put_string(skb, CACHEPEER_A_KEY_NAME, key->name) ||
	    nla_put_u8(skb, CACHEPEER_A_KEY_ROLE, key->role) ||
	    nla_put(skb, CACHEPEER_A_KEY_FINGERPRINT, CP_FPR_LEN, key->fpr) ||
	    nla_put_u32(skb, CACHEPEER_A_KEY_CONNS, atomic_read(&key->conns)) ||
	    (key->role == CACHEPEER_ROLE_MEMBER &&
	     nla_put_u8(skb, CACHEPEER_A_KEY_NEXT, READ_ONCE(key->next)))) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	return 0;
}

/* cb->args[0]: keys already reported. */
int cachepeer_nl_key_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct cp_service *svc = cp_service_get(sock_net(skb->sk));
	struct key_dump kd = { .skb = skb, .cb = cb };

	cb->args[0] += cp_keys_for_each(&svc->keys, cb->args[0], put_key, &kd);
	return skb->len;
}
