/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * cachepeer: an in-kernel peer for distributed file-system block caches.
 *
 * This header is the ABI shared by the kernel module and cachepeerctl. It is
 * the protocol reference; keep it userspace-safe (__u32, 1U << n, no BIT()).
 *
 * Control plane: generic netlink family "cachepeer"
 * -------------------------------------------------
 *
 * Every network namespace is an independent cache node. Requests act on the
 * node of the requesting socket's namespace. Mutating commands, and those
 * marked admin, require CAP_NET_ADMIN in the user namespace that owns that
 * network namespace.
 * Attribute parsing is strict: unknown attributes, wrong types and lengths,
 * unknown flags and a non-zero genlmsghdr.reserved are rejected with an
 * extended ACK message.
 *
 * CACHEPEER_CMD_NODE_GET (do)
 *   request:  none
 *   reply:    CACHEPEER_CMD_NODE_GET
 *               CACHEPEER_A_NODE_VERSION   string, module version
 *               CACHEPEER_A_NODE_STATE     u32, enum cachepeer_node_state
 *               CACHEPEER_A_NODE_NAME      string, may be empty
 *             while running, also:
 *               CACHEPEER_A_NODE_LISTEN_ADDR, _LISTEN_PORT, _DIR (only to
 *               callers with CAP_NET_ADMIN over the namespace), _MAX_BLOCK,
 *               _FRAME_TIMEOUT, _EPOCH (uint)
 *               CACHEPEER_A_NODE_STATS     nest, CACHEPEER_A_STATS_*
 *                 (uint counters since the module loaded in this namespace;
 *                 _OPS and _STATUS nest one uint per op or status, its
 *                 attribute type being the op or status number; _LATENCY
 *                 nests a CACHEPEER_A_LAT_* nest per op that was answered,
 *                 its attribute type being the op number)
 *
 * CACHEPEER_CMD_NODE_SET (do, admin)
 *   request:  any of, at least one:
 *             CACHEPEER_A_NODE_NAME       1..CACHEPEER_NAME_MAX bytes of
 *                                          [A-Za-z0-9._-]
 *             CACHEPEER_A_NODE_LIMIT_BYTES  uint, cached bytes; 0: no limit
 *             CACHEPEER_A_NODE_LIMIT_BLOCKS uint, cached blocks; 0: no limit
 *             CACHEPEER_A_NODE_FS_STOP    u8, % free on the cache filesystem
 *                                          below which PUTs get NO_SPACE
 *             CACHEPEER_A_NODE_FS_CULL    u8, % free below which the node
 *                                          starts evicting; 0: never
 *             CACHEPEER_A_NODE_FS_RUN     u8, % free at which it stops again
 *             CACHEPEER_A_NODE_EVICT      u8, enum cachepeer_evict_policy
 *             CACHEPEER_A_NODE_SCRUB_RATE uint, bytes per second the scrub
 *                                          patrol reads; 0: no patrol
 *             CACHEPEER_A_NODE_CLUSTER_KEY binary, 16..64 bytes: the key of
 *                                          the HMAC-SHA256 on ring pushes
 *             CACHEPEER_A_NODE_MISS       u8, enum cachepeer_miss: what a
 *                                          node does with a GET it misses
 *                                          for a key another member owns
 *             CACHEPEER_A_NODE_HANDOFF    u32, seconds after a ring change
 *                                          during which an owner that misses
 *                                          asks the previous owner (default
 *                                          600; 0: never)
 *             Bounds on what clients may hold (connections from a ring
 *             member's address get four times the queue and pin bounds, no
 *             per-source limit and no idle timeout):
 *             CACHEPEER_A_NODE_MAX_CONNS  u32, connections (default 16384,
 *                                          1..CACHEPEER_MAX_CONNS_LIMIT);
 *                                          more are accepted and reset
 *             CACHEPEER_A_NODE_MAX_CONNS_SOURCE u32, connections from one
 *                                          IPv4 address or IPv6 /64 (256;
 *                                          0: no limit)
 *             CACHEPEER_A_NODE_CONN_QUEUE uint, bytes a connection may hold
 *                                          for answers not yet sent: relayed
 *                                          and ring data, requests, headers
 *                                          (4 MiB); at the bound the node
 *                                          reads no more of its requests
 *                                          until it is under 3/4 of it. Its
 *                                          socket's send buffer is bounded
 *                                          to the same
 *             CACHEPEER_A_NODE_NODE_QUEUE uint, the same over the node
 *                                          (256 MiB); it stops only the
 *                                          connections holding at least an
 *                                          even share of it
 *             CACHEPEER_A_NODE_CONN_PIN   uint, bytes of page-cache data a
 *                                          connection's queued answers may
 *                                          come to (64 MiB)
 *             CACHEPEER_A_NODE_ACCESS     u8, enum cachepeer_access: what a
 *                                          connection may do before (or
 *                                          without) HELLO (default AUTO)
 *             CACHEPEER_A_NODE_NEXT_CLUSTER_KEY binary, write only: the next
 *                                          member key (see KEY_ADD below);
 *                                          -ENOKEY without a current one
 *             CACHEPEER_A_NODE_IDLE_TIMEOUT u32, seconds a connection with
 *                                          nothing in flight and no bytes
 *                                          either way may stay (600; 0: never;
 *                                          at most 7 days)
 *             The three byte bounds are CACHEPEER_QUEUE_MIN..
 *             CACHEPEER_QUEUE_LIMIT, and CONN_QUEUE may not exceed NODE_QUEUE.
 *   The percentages are 0..99 and, when FS_CULL is set, must satisfy
 *   FS_STOP < FS_CULL < FS_RUN. Defaults: no byte or block limit, 3/7/10 %
 *   (as cachefilesd), LRU, 1 MiB/s. Limits may be set while the node is
 *   stopped; a running node applies them at once, evicting down to them
 *   before the reply, and its connections live under new bounds from
 *   then on. NODE_GET reports them all.
 *
 * CACHEPEER_CMD_NODE_START (do, admin)
 *   request:  CACHEPEER_A_NODE_LISTEN_ADDR  binary, 4 (IPv4) or 16 (IPv6) bytes
 *             CACHEPEER_A_NODE_LISTEN_PORT  u16, 1..65535
 *             CACHEPEER_A_NODE_DIR          string, the cache directory
 *             CACHEPEER_A_NODE_MAX_BLOCK    uint, optional, 1..64 MiB
 *                                           (default 4 MiB)
 *             CACHEPEER_A_NODE_FRAME_TIMEOUT u32 ms, optional, 100..3600000
 *                                           (default 30000)
 *   Moves the node from STOPPED to RUNNING; -EALREADY if it is running. The
 *   directory is resolved, and used, with the caller's credentials.
 *
 * CACHEPEER_CMD_NODE_STOP (do, admin)
 *   request:  none
 *   Moves the node from RUNNING to STOPPED; -EALREADY if it is stopped.
 *   Every connection is closed; blocks already stored stay on disk, and a
 *   later start in the same directory indexes them again, in the background
 *   (CACHEPEER_A_STATS_SCAN_DONE tells when it has finished).
 *
 * CACHEPEER_CMD_SCRUB_START (do, admin)
 *   request:  none
 *   Starts a scrub pass over every block now, hot ones included, at the
 *   scrub rate (unthrottled if the rate is 0). -ENOTCONN if not running.
 *
 * CACHEPEER_CMD_RING_GET (do)
 *   request:  none
 *   reply:    CACHEPEER_A_NODE_EPOCH, one CACHEPEER_A_NODE_MEMBER nest per
 *             member (sorted by name, with _POINTS), CACHEPEER_A_NODE_MISS,
 *             _HANDOFF, _KEY_SET, _RING_MEM (bytes) and _RING_BUILD_NS (how
 *             long the ring took to build).
 *
 * CACHEPEER_CMD_RING_SET (do, admin)
 *   request:  zero or more CACHEPEER_A_NODE_MEMBER nests, each with _NAME,
 *             _ADDR, _PORT and optionally _WEIGHT (default 100); and
 *             optionally CACHEPEER_A_NODE_BASE_EPOCH.
 *   Makes the ring hold exactly these members: members missing from the
 *   list are removed (as tombstones), new or changed ones get a new
 *   version, unchanged ones keep theirs. With BASE_EPOCH on a node that has
 *   no ring (a join: the list is the seed's ring plus this node), only this
 *   node's entry gets a new version; the others get version 0, so that any
 *   entry the cluster holds for them wins when the views merge. -ERANGE if
 *   a version would pass 2^64 - 1; a push carrying version 2^64 - 1 is
 *   refused (BAD_REQUEST).
 *
 * CACHEPEER_CMD_RING_ADD (do, admin)     one CACHEPEER_A_NODE_MEMBER
 * CACHEPEER_CMD_RING_DEL (do, admin)     CACHEPEER_A_NODE_NAME
 * CACHEPEER_CMD_RING_WEIGHT (do, admin)  one CACHEPEER_A_NODE_MEMBER with
 *                                        _NAME and _WEIGHT only
 *   Edit one member, giving its entry a new version. Names and addresses
 *   are unique among a ring's live members; an unknown or duplicate
 *   member, a bad address, a weight over CACHEPEER_WEIGHT_MAX or a name
 *   that is too long is refused with an extended ACK message. A removed
 *   member's name may be added again. At most CACHEPEER_RING_MEMBERS_MAX
 *   entries, tombstones included.
 *
 *   Every change made here is pushed to the ring's members (RING_PUSH
 *   below, down a relay tree) when the node runs and has a cluster key;
 *   views merge member by member (see "Membership merge" below), so
 *   concurrent edits made on different nodes all survive.
 *
 * CACHEPEER_CMD_RING_LOOKUP (do)
 *   request:  CACHEPEER_A_NODE_KEY_HASH_OF   binary, a block key
 *             CACHEPEER_A_NODE_LOOKUP_COUNT  u32, optional, 1..1000000
 *   reply:    CACHEPEER_A_NODE_KEY_HASH (u64, XXH64 of the key) and the
 *             owner's CACHEPEER_A_NODE_MEMBER, if the ring has one. With
 *             LOOKUP_COUNT (which needs CAP_NET_ADMIN), the node also looks
 *             up that many hashes derived from the key's and reports the time
 *             taken in _LOOKUP_NS (a benchmark of the ring).
 *
 * CACHEPEER_CMD_KEY_ADD (do, admin)
 *   request:  CACHEPEER_A_NODE_KEY nesting CACHEPEER_A_KEY_NAME (1-63 bytes of
 *             [A-Za-z0-9._-], not starting "member."), _ROLE (CACHEPEER_ROLE_READ
 *             or _WRITE) and _SECRET (CACHEPEER_SECRET_MIN..MAX bytes).
 *   Adds a key clients may HELLO with (see the block protocol); -EEXIST if
 *   the name is taken, -ENOSPC beyond CACHEPEER_KEYS_MAX keys. A secret is
 *   never returned.
 *
 * CACHEPEER_CMD_KEY_DEL (do, admin)
 *   request:  CACHEPEER_A_NODE_KEY nesting CACHEPEER_A_KEY_NAME
 *   Removes the key and closes every connection authenticated with it; a
 *   member key (its name is "member." and its fingerprint in hex) too.
 *
 * CACHEPEER_CMD_KEY_GET (dump, admin)
 *   reply:    one message per key, CACHEPEER_A_NODE_KEY nesting _NAME,
 *             _ROLE, _FINGERPRINT (the first 8 bytes of SHA-256 of the
 *             secret), _CONNS (connections authenticated with it) and, for
 *             member keys, _NEXT (u8, 1: the next member key, 0: the current).
 *
 * The member key is the cluster key: NODE_SET's CACHEPEER_A_NODE_CLUSTER_KEY
 * sets the current one, which signs the node's ring pushes and proves the
 * node in its calls to other members, and _NEXT_CLUSTER_KEY a next one,
 * which the node also accepts (from pushes and HELLOs). Setting as current
 * the key that is the next makes the old current the next: so a cluster
 * moves to a new key node by node, set as next everywhere, then as current
 * everywhere, then the old one deleted everywhere (KEY_DEL).
 *
 * CACHEPEER_CMD_CONN_GET (dump, admin)
 *   request:  none
 *   reply:    one message per connection, CACHEPEER_A_NODE_CONN nesting
 *             CACHEPEER_A_CONN_*: the peer's address (4 or 16 bytes) and
 *             port, requests in flight, bytes received and sent, age, and
 *             the CPU its sending runs on (the one receiving its segments,
 *             unless that is where the client itself sends them from).
 *   A dump during which connections came or went has NLM_F_DUMP_INTR set
 *   on a message after the change (at the latest on NLMSG_DONE): it may
 *   have missed a connection or shown one twice, and should be read again.
 *
 * Data plane: the block protocol, over TCP
 * ----------------------------------------
 *
 * A client sends requests and the node answers each with one response, in
 * any order: requests are tagged with a client-chosen 64-bit id, and many may
 * be in flight on one connection. All integers are big-endian.
 *
 *   request  = struct cachepeer_req, key (key_len bytes), payload (payload_len)
 *   response = struct cachepeer_resp, data (data_len bytes)
 *
 * Keys are 1..CACHEPEER_KEY_MAX bytes of arbitrary binary. A block is
 * immutable: once PUT, its bytes never change until it is deleted or evicted.
 *
 *   GET   key, offset, length (0: to the end of the block). The response
 *         carries the bytes and crc = CRC-32C of exactly those bytes.
 *   PUT   key, payload = the whole block (1..max_block bytes). With
 *         CACHEPEER_F_CRC, crc is the CRC-32C of the payload and a mismatch
 *         stores nothing and answers CORRUPT. A block already stored under
 *         the key is kept: a PUT of the same size answers OK (its payload
 *         is read and dropped), one of another size CONFLICT; neither
 *         leaves anything on disk.
 *   STAT  key. block_size and crc (of the whole block) if present.
 *   DEL   key. NOT_FOUND if absent.
 *   PING  no key. OK.
 *   PROBE key = a ring member's name (1..CACHEPEER_NAME_MAX bytes). The
 *         node PINGs that member: OK if it answered, NOT_FOUND if it did
 *         not (or the node has no member of that name); BUSY past 8 PROBEs
 *         under way on the node. A member too busy to take the PING counts
 *         as answering. Members ask it of each other (an indirect probe,
 *         see "Liveness"); it needs the MEMBER role, as RING_PUSH does.
 *   RING_GET   no key. data = the node's ring, encoded as below; crc = its
 *         CRC-32C.
 *   RING_PUSH  no key. payload = a ring encoding (a whole view, or a
 *         digest) followed by its HMAC-SHA256 (CACHEPEER_HMAC_LEN bytes)
 *         under the cluster key (the current member key; the next one is
 *         accepted too). DENIED if the node has no key, the HMAC is wrong or
 *         time_ms is out of range (see "Pushes" below); BAD_REQUEST if the
 *         encoding is malformed. Otherwise OK; the node merges the view, and
 *         if the sender lacks something the node holds (or, for a digest,
 *         the digests differ), data = a view (whole, or of what the sender
 *         lacks, as below) and its HMAC.
 *
 *   HELLO  authenticates the connection with one of the node's keys, in two
 *         requests; no secret crosses the wire. It must be the connection's
 *         first request, and comes once (else BAD_REQUEST, the connection
 *         staying as it was).
 *         (1) key = the client's nonce (CACHEPEER_NONCE_LEN random bytes)
 *             followed by the key's name. The node answers OK with data =
 *             its own nonce (CACHEPEER_NONCE_LEN random bytes), its proof
 *             (CACHEPEER_HMAC_LEN bytes) and the key's role (one byte, enum
 *             cachepeer_role); or DENIED if it has no key of that name (the
 *             connection may HELLO again).
 *         (2) flags = CACHEPEER_F_PROOF, key = the client's proof
 *             (CACHEPEER_HMAC_LEN bytes). The node answers OK, and from the
 *             next request on the connection has the key's role; or DENIED,
 *             and ends the connection. A proof without (1) is BAD_REQUEST.
 *         A proof is HMAC-SHA256 under the key's secret over
 *             label || client nonce || node nonce || u8 name length || name
 *             || u8 role,
 *         where label is "cachepeer hello v1 node" for the node's proof and
 *         "cachepeer hello v1 client" for the client's (no NUL): neither a
 *         recorded exchange (the node's nonce is new) nor a proof reflected
 *         back (the labels differ) is accepted. The client checks the node's
 *         proof before it sends its own. Requests before HELLO completes
 *         have no role.
 *
 * Access. What a connection may do depends on the node's policy (NODE_SET
 * CACHEPEER_A_NODE_ACCESS) and the role HELLO gave it:
 *   roles     READ: GET, STAT, PING, RING_GET; WRITE: also PUT and DEL;
 *             MEMBER: everything, RING_PUSH too (the member keys' role)
 *   OPEN      anyone may do anything
 *   WRITES    anyone may read; PUT and DEL need a WRITE or MEMBER role,
 *             RING_PUSH a MEMBER one
 *   ALL       every request but HELLO and PING needs a role that allows it
 *   AUTO      (the default) WRITES while the node has any key, the cluster
 *             key included; OPEN while it has none
 * A request its connection may not make is answered DENIED, alone (a PUT's
 * or push's payload is read and dropped): the connection goes on.
 *
 * Ring encoding (format 1; format 0, before per-member versions, had a
 * 16-byte header and 88-byte members, and is refused: nodes of the two
 * formats cannot share a ring, and a cluster moves to format 1 all at
 * once): struct cachepeer_ring_hdr, then nmembers
 * struct cachepeer_ring_member sorted by name, every byte after a name's
 * NUL zero. Removed members stay as tombstones (CACHEPEER_MEMBER_F_REMOVED)
 * for CACHEPEER_RING_TOMBSTONE_S after their version's time, so that the
 * removal reaches everyone; the ring is made of the other entries. Points on
 * the 64-bit circle: member NAME of weight W has W * CACHEPEER_RING_POINTS /
 * CACHEPEER_WEIGHT_DEFAULT points (integer division), point i at XXH64(NAME,
 * strlen(NAME), seed i). A key hashes to XXH64(key, key_len, seed 0) and
 * belongs to the member of the first point at or after its hash, wrapping
 * around; equal point hashes order by member name. Of two live entries with
 * one address, only the winning one (below) is in the ring.
 * selftests/ring_vectors.txt pins all of this.
 *
 * Membership merge. Every entry carries its own version. An edit on any
 * node gives the entries it changes the version max(now in ms, epoch + 1).
 * Two views merge member by member: the entry with the larger version wins,
 * and of two with one version, the one whose encoding compares larger
 * (memcmp). So concurrent edits of different members all survive, and
 * concurrent edits of one member converge on one of them. A node's epoch
 * is the largest version it has ever held; dropping a tombstone raises its
 * floor to the tombstone's version instead of lowering the epoch, so the
 * epoch never goes back. Floors merge as the larger. An entry that only
 * one of two merging views holds, at or below the other's floor, is
 * dropped (the other dropped its tombstone): so a view from a node that was
 * away past a tombstone's lifetime cannot bring the member back, and the
 * merge is the same whichever view it starts from. A pushed view must have
 * every version, and its floor, at most its epoch, and an epoch less than
 * 2^64 - 1 and no more than CACHEPEER_RING_TOMBSTONE_S ahead of its time_ms.
 *
 * Liveness. Every second each member probes the next member round the
 * ring that is not down with PING; if it does not answer, two other
 * members are asked to (PROBE). If none reaches it, and one at least
 * answers that it does not (a node that reaches no one suspects no one),
 * the prober marks it SUSPECT, at the member's incarnation, and pushes
 * that as an edit; a member suspect for 3 s is then marked DOWN, by the
 * prober (the others wait twice as long, in case the prober went away). A
 * member that finds itself suspect or down in a view refutes it: it
 * raises its incarnation and pushes itself ALIVE (past incarnation
 * 2^32 - 1, with an edit of its own entry). Of two entries of one member
 * with the same version and the same administered fields, the larger
 * incarnation wins, then the worse state; otherwise the entry that wins
 * (above) brings its liveness with it, so an edit resets a member's
 * liveness to what the editing node held. Liveness changes no version,
 * and so not the epoch. A down member stays in the ring, but keys route
 * past it to the next member clockwise that is not down (kernel and client
 * alike), no hand-off is asked of it, and relay trees and gossip leave it
 * out.
 *
 * Pushes (RING_PUSH) are signed, with time_ms, and refused if signed more
 * than CACHEPEER_RING_MAX_AGE_S away from the receiver's clock: a captured
 * push cannot be replayed after the tombstones it predates are gone. The
 * members' clocks must agree within that. A node that makes an edit pushes
 * the entries it changed (flag CACHEPEER_RING_F_PARTIAL: an entry missing
 * from the push says nothing) down a relay tree: the ring's members in name
 * order, rotated to start at relay_root; position p relays to positions
 * p * FANOUT + 1 .. p * FANOUT + FANOUT. A node relays only a push that
 * brought it news. A node that starts pushes its whole view the same way.
 * Every second each member also sends two random members a digest (flag
 * CACHEPEER_RING_F_DIGEST, no entries); one whose digest differs answers,
 * by epoch: ahead of the asker, with the entries edited after the asker's
 * epoch and those not alive (partial); behind it, with no entry (partial),
 * and the asker sends back what is newer than the answerer's epoch; of one
 * epoch, with its whole view, and the asker sends its own back if the
 * answer lacks anything it holds.
 *
 * Routing. A GET for a key the node does not own, and does not hold, is
 * forwarded to the owner (the owner's answer is relayed) or answered
 * REDIRECT with data = the owner's "ADDR:PORT" (crc = its CRC-32C), as the
 * node's miss setting says. A node that owns a key but misses it asks the
 * key's owner under the previous ring for a while after a ring change
 * (hand-off), stores the block and serves it. Requests between nodes carry
 * CACHEPEER_F_NOFWD, so a request is forwarded at most once.
 *
 * Writes follow the ring too, so that GETs routed by the ring find the
 * block. A PUT or DEL for a key another member owns is forwarded to the
 * owner under the forward miss setting, if the connection proved a write
 * or member key (a forwarded write acts with the node's member rights,
 * which an open access policy does not lend); otherwise it is redirected,
 * a PUT's payload read and dropped. A forwarded PUT's payload is streamed
 * to the owner as it arrives, with the client's CRC, never held whole; it
 * is answered with the owner's status, or BUSY when the owner could not be
 * reached or failed mid-payload (it stored nothing). A forwarded DEL is
 * answered with the owner's status, or BUSY when the owner could not be
 * asked (it may or may not have deleted). A DEL for another member's key
 * also deletes a copy of the block on the node it was sent to.
 * CACHEPEER_F_LOCAL stores or deletes on the node the request is sent to,
 * whatever the ring says: for a client that pins a node on purpose, or
 * that fails over from an owner it cannot reach.
 *
 * CRC-32C is the Castagnoli CRC as iSCSI uses it (check value 0xE3069283
 * for "123456789"). Every response carries the node's ring epoch.
 *
 * Errors that break framing (bad magic or version, reserved bits set, a key
 * length out of range, an unknown opcode or flag, a payload on a request that
 * takes none, a payload over the node's max_block) are answered with
 * BAD_REQUEST or TOO_LARGE and the connection is then closed, since the
 * position of the next frame cannot be trusted. Other errors answer the
 * request alone. A connection holding a partial frame for longer than the
 * node's frame timeout is closed, and so is one that acknowledges none of
 * the bytes it was sent for that long (a stalled reader). A connection the
 * client half-closed is answered, then ended with a FIN after the answers.
 */
#ifndef _UAPI_LINUX_CACHEPEER_H
#define _UAPI_LINUX_CACHEPEER_H

#include <linux/types.h>

#define CACHEPEER_GENL_NAME	"cachepeer"
#define CACHEPEER_GENL_VERSION	1

/* Longest node name, not counting the terminating NUL. */
#define CACHEPEER_NAME_MAX	63

enum cachepeer_node_state {
	CACHEPEER_NODE_STOPPED,
	CACHEPEER_NODE_RUNNING,
};

enum cachepeer_cmd {
	CACHEPEER_CMD_UNSPEC,
	CACHEPEER_CMD_NODE_GET,
	CACHEPEER_CMD_NODE_SET,
	CACHEPEER_CMD_NODE_START,
	CACHEPEER_CMD_NODE_STOP,
	CACHEPEER_CMD_SCRUB_START,
	CACHEPEER_CMD_CONN_GET,
	CACHEPEER_CMD_RING_GET,
	CACHEPEER_CMD_RING_SET,
	CACHEPEER_CMD_RING_ADD,
	CACHEPEER_CMD_RING_DEL,
	CACHEPEER_CMD_RING_WEIGHT,
	CACHEPEER_CMD_RING_LOOKUP,
	CACHEPEER_CMD_KEY_ADD,
	CACHEPEER_CMD_KEY_DEL,
	CACHEPEER_CMD_KEY_GET,

	__CACHEPEER_CMD_MAX,
	CACHEPEER_CMD_MAX = __CACHEPEER_CMD_MAX - 1
};

enum cachepeer_node_attr {
	CACHEPEER_A_NODE_UNSPEC,
	CACHEPEER_A_NODE_VERSION,
	CACHEPEER_A_NODE_STATE,
	CACHEPEER_A_NODE_NAME,
	CACHEPEER_A_NODE_LISTEN_ADDR,
	CACHEPEER_A_NODE_LISTEN_PORT,
	CACHEPEER_A_NODE_DIR,
	CACHEPEER_A_NODE_MAX_BLOCK,
	CACHEPEER_A_NODE_FRAME_TIMEOUT,
	CACHEPEER_A_NODE_EPOCH,
	CACHEPEER_A_NODE_STATS,
	CACHEPEER_A_NODE_LIMIT_BYTES,
	CACHEPEER_A_NODE_LIMIT_BLOCKS,
	CACHEPEER_A_NODE_FS_STOP,
	CACHEPEER_A_NODE_FS_CULL,
	CACHEPEER_A_NODE_FS_RUN,
	CACHEPEER_A_NODE_EVICT,
	CACHEPEER_A_NODE_SCRUB_RATE,
	CACHEPEER_A_NODE_CONN,
	CACHEPEER_A_NODE_MEMBER,		/* nest, CACHEPEER_A_MEMBER_* */
	CACHEPEER_A_NODE_BASE_EPOCH,		/* uint */
	CACHEPEER_A_NODE_CLUSTER_KEY,		/* binary, write only */
	CACHEPEER_A_NODE_KEY_SET,		/* u8, 1 if a cluster key is set */
	CACHEPEER_A_NODE_MISS,			/* u8, enum cachepeer_miss */
	CACHEPEER_A_NODE_HANDOFF,		/* u32, seconds */
	CACHEPEER_A_NODE_RING_MEM,		/* uint, bytes */
	CACHEPEER_A_NODE_RING_BUILD_NS,		/* uint */
	CACHEPEER_A_NODE_KEY_HASH_OF,		/* binary, a block key */
	CACHEPEER_A_NODE_KEY_HASH,		/* u64 */
	CACHEPEER_A_NODE_LOOKUP_COUNT,		/* u32 */
	CACHEPEER_A_NODE_LOOKUP_NS,		/* uint */
	CACHEPEER_A_NODE_MAX_CONNS,		/* u32 */
	CACHEPEER_A_NODE_MAX_CONNS_SOURCE,	/* u32, 0: no limit */
	CACHEPEER_A_NODE_CONN_QUEUE,		/* uint, bytes */
	CACHEPEER_A_NODE_NODE_QUEUE,		/* uint, bytes */
	CACHEPEER_A_NODE_CONN_PIN,		/* uint, bytes */
	CACHEPEER_A_NODE_IDLE_TIMEOUT,		/* u32, seconds, 0: never */
	CACHEPEER_A_NODE_ACCESS,		/* u8, enum cachepeer_access */
	CACHEPEER_A_NODE_ACCESS_NOW,		/* u8, the policy in force (not AUTO) */
	CACHEPEER_A_NODE_NEXT_CLUSTER_KEY,	/* binary, write only */
	CACHEPEER_A_NODE_KEY,			/* nest, CACHEPEER_A_KEY_* */

	__CACHEPEER_A_NODE_MAX,
	CACHEPEER_A_NODE_MAX = __CACHEPEER_A_NODE_MAX - 1
};

enum cachepeer_stats_attr {
	CACHEPEER_A_STATS_UNSPEC,
	CACHEPEER_A_STATS_CONNS,		/* open connections */
	CACHEPEER_A_STATS_CONNS_REFUSED,	/* over the connection limit */
	CACHEPEER_A_STATS_TIMEOUTS,		/* closed for an unfinished frame */
	CACHEPEER_A_STATS_BLOCKS,		/* blocks in the index */
	CACHEPEER_A_STATS_BYTES,		/* their bytes */
	CACHEPEER_A_STATS_CORRUPT,		/* blocks dropped for bad CRCs */
	CACHEPEER_A_STATS_ZC_BYTES,		/* data spliced from the page cache */
	CACHEPEER_A_STATS_COPIED_BYTES,		/* data TCP had to copy */
	CACHEPEER_A_STATS_OPS,			/* nest: requests by op */
	CACHEPEER_A_STATS_STATUS,		/* nest: responses by status */
	CACHEPEER_A_STATS_HITS,			/* GETs answered OK */
	CACHEPEER_A_STATS_MISSES,		/* GETs answered NOT_FOUND */
	CACHEPEER_A_STATS_INFLIGHT,		/* requests in flight, all conns */
	CACHEPEER_A_STATS_EVICTIONS,		/* blocks evicted */
	CACHEPEER_A_STATS_FOREIGN,		/* bad block files found, removed */
	CACHEPEER_A_STATS_OPEN_FILES,		/* blocks with an open file */
	CACHEPEER_A_STATS_INDEX_MEM,		/* bytes of index memory */
	CACHEPEER_A_STATS_SCAN_DONE,		/* 1 once the start scan ended */
	CACHEPEER_A_STATS_SCAN_FOUND,		/* blocks it indexed */
	CACHEPEER_A_STATS_NO_SPACE,		/* 1 while below fs_stop */
	CACHEPEER_A_STATS_CULLING,		/* 1 while evicting for space */
	CACHEPEER_A_STATS_SCRUB,		/* nest: CACHEPEER_A_SCRUB_* */
	CACHEPEER_A_STATS_SCAN_MS,		/* how long the start scan took */
	CACHEPEER_A_STATS_FORWARDS,		/* GETs, PUTs and DELs relayed to their owner */
	CACHEPEER_A_STATS_REDIRECTS,		/* requests answered REDIRECT */
	CACHEPEER_A_STATS_HANDOFFS,		/* blocks fetched from a previous owner */
	CACHEPEER_A_STATS_PEER_ERRORS,		/* failed calls to other members */
	CACHEPEER_A_STATS_RING_ACCEPTED,	/* ring pushes that won */
	CACHEPEER_A_STATS_RING_REFUSED,		/* pushes refused: HMAC, age */
	CACHEPEER_A_STATS_RING_SENT,		/* views sent to other members */
	CACHEPEER_A_STATS_SOFTIRQ_TX,		/* responses sent from softirq */
	CACHEPEER_A_STATS_TX_STALLS,		/* closed: nothing sent was acked */
	CACHEPEER_A_STATS_CONNS_REFUSED_SOURCE,	/* over the per-source limit */
	CACHEPEER_A_STATS_CONNS_REFUSED_MEMORY,	/* no memory for the connection */
	CACHEPEER_A_STATS_IDLE_CLOSES,		/* closed after the idle timeout */
	CACHEPEER_A_STATS_QUEUED_BYTES,		/* memory held for queued answers */
	CACHEPEER_A_STATS_QUEUE_PAUSES,		/* times a connection hit a bound */
	CACHEPEER_A_STATS_HELLOS,		/* connections authenticated */
	CACHEPEER_A_STATS_HELLO_FAILURES,	/* HELLOs refused: name, proof */
	CACHEPEER_A_STATS_DENIED_UNAUTH,	/* requests DENIED: no HELLO */
	CACHEPEER_A_STATS_DENIED_ROLE,		/* requests DENIED: the role */
	CACHEPEER_A_STATS_PEER_CONNECTS,	/* connections opened to members */
	CACHEPEER_A_STATS_HANDOFF_JOINED,	/* misses that joined a hand-off */
	CACHEPEER_A_STATS_RING_STALE,		/* pushes that brought nothing new */
	CACHEPEER_A_STATS_RING_DIGESTS,		/* gossip digests sent */
	CACHEPEER_A_STATS_PROBES,		/* members probed */
	CACHEPEER_A_STATS_MEMBER_SUSPECT,	/* members found silent */
	CACHEPEER_A_STATS_MEMBER_DOWN,		/* suspects declared down */
	CACHEPEER_A_STATS_MEMBER_REFUTED,	/* suspicions of this node refuted */
	CACHEPEER_A_STATS_FORWARD_JOINED,	/* GETs that joined a forward */
	CACHEPEER_A_STATS_PEER_CALLS,		/* GETs in flight on the links */
	CACHEPEER_A_STATS_PEER_CALLS_MAX,	/* the most on one link at once */
	CACHEPEER_A_STATS_LATENCY,		/* nest: a CACHEPEER_A_LAT_* nest per op */
	CACHEPEER_A_STATS_FS_SIZE,		/* bytes of the cache filesystem */
	CACHEPEER_A_STATS_FS_AVAIL,		/* of them free for the node's user */

	__CACHEPEER_A_STATS_MAX,
	CACHEPEER_A_STATS_MAX = __CACHEPEER_A_STATS_MAX - 1
};

enum cachepeer_scrub_attr {
	CACHEPEER_A_SCRUB_UNSPEC,
	CACHEPEER_A_SCRUB_PASSES,		/* passes completed */
	CACHEPEER_A_SCRUB_BLOCKS,		/* blocks verified, all passes */
	CACHEPEER_A_SCRUB_BYTES,
	CACHEPEER_A_SCRUB_CORRUPT,		/* corrupt blocks it dropped */
	CACHEPEER_A_SCRUB_PASS_BLOCKS,		/* verified in this pass */
	CACHEPEER_A_SCRUB_RUNNING,		/* 1 while a pass is under way */

	__CACHEPEER_A_SCRUB_MAX,
	CACHEPEER_A_SCRUB_MAX = __CACHEPEER_A_SCRUB_MAX - 1
};

/*
 * Latency of requests, per op: from the request parsed to its response's
 * last byte handed to TCP. Buckets of nanoseconds, four per power of two
 * (so a percentile read off them is within 25 %): bucket 0 holds [0, 2^10),
 * bucket i in 1..CACHEPEER_LAT_BUCKETS-2 holds [cachepeer_lat_lower(i),
 * cachepeer_lat_lower(i + 1)), and the last holds 2^38 ns (275 s) and up.
 */
#define CACHEPEER_LAT_MIN_SHIFT		10
#define CACHEPEER_LAT_MAX_SHIFT		38
#define CACHEPEER_LAT_SUB		4
#define CACHEPEER_LAT_BUCKETS \
	((CACHEPEER_LAT_MAX_SHIFT - CACHEPEER_LAT_MIN_SHIFT) * CACHEPEER_LAT_SUB + 2)

/* The smallest latency, in ns, bucket i holds. */
static __inline__ __u64 cachepeer_lat_lower(unsigned int i)
{
	unsigned int e = CACHEPEER_LAT_MIN_SHIFT + (i - 1) / CACHEPEER_LAT_SUB;

	if (!i)
		return 0;
	return (1ULL << e) + ((__u64)((i - 1) % CACHEPEER_LAT_SUB) << (e - 2));
}

enum cachepeer_lat_attr {
	CACHEPEER_A_LAT_UNSPEC,
	CACHEPEER_A_LAT_COUNT,			/* uint, requests answered */
	CACHEPEER_A_LAT_SUM_NS,			/* uint, their latencies added */
	CACHEPEER_A_LAT_FIRST,			/* u32, the first bucket not empty */
	CACHEPEER_A_LAT_BUCKETS,		/* binary: __u64 counts, _FIRST on */

	__CACHEPEER_A_LAT_MAX,
	CACHEPEER_A_LAT_MAX = __CACHEPEER_A_LAT_MAX - 1
};

enum cachepeer_conn_attr {
	CACHEPEER_A_CONN_UNSPEC,
	CACHEPEER_A_CONN_ADDR,			/* binary, 4 or 16 bytes */
	CACHEPEER_A_CONN_PORT,			/* u16 */
	CACHEPEER_A_CONN_INFLIGHT,		/* uint */
	CACHEPEER_A_CONN_RX_BYTES,		/* uint */
	CACHEPEER_A_CONN_TX_BYTES,		/* uint */
	CACHEPEER_A_CONN_AGE_MS,		/* uint */
	CACHEPEER_A_CONN_CPU,			/* u32 */
	CACHEPEER_A_CONN_QUEUED,		/* uint, bytes held for its answers */
	CACHEPEER_A_CONN_PINNED,		/* uint, page-cache bytes of them */
	CACHEPEER_A_CONN_MEMBER,		/* u8, 1: from a ring member */

	__CACHEPEER_A_CONN_MAX,
	CACHEPEER_A_CONN_MAX = __CACHEPEER_A_CONN_MAX - 1
};

enum cachepeer_member_attr {
	CACHEPEER_A_MEMBER_UNSPEC,
	CACHEPEER_A_MEMBER_NAME,		/* string, 1..CACHEPEER_NAME_MAX */
	CACHEPEER_A_MEMBER_ADDR,		/* binary, 4 or 16 bytes */
	CACHEPEER_A_MEMBER_PORT,		/* u16 */
	CACHEPEER_A_MEMBER_WEIGHT,		/* u32, 0..CACHEPEER_WEIGHT_MAX */
	CACHEPEER_A_MEMBER_POINTS,		/* uint, reply only */
	CACHEPEER_A_MEMBER_STATE,		/* u8, enum cachepeer_member_state; reply */
	CACHEPEER_A_MEMBER_INCARNATION,		/* u32, reply only */
	/* uint, ms since it last answered this node's probe; reply, absent if never */
	CACHEPEER_A_MEMBER_HEARD_MS,

	__CACHEPEER_A_MEMBER_MAX,
	CACHEPEER_A_MEMBER_MAX = __CACHEPEER_A_MEMBER_MAX - 1
};

enum cachepeer_key_attr {
	CACHEPEER_A_KEY_UNSPEC,
	CACHEPEER_A_KEY_NAME,			/* string, 1..CACHEPEER_NAME_MAX */
	CACHEPEER_A_KEY_ROLE,			/* u8, enum cachepeer_role */
	CACHEPEER_A_KEY_SECRET,			/* binary, write only */
	CACHEPEER_A_KEY_FINGERPRINT,		/* binary, 8 bytes */
	CACHEPEER_A_KEY_CONNS,			/* u32 */
	CACHEPEER_A_KEY_NEXT,			/* u8, member keys: 1 if the next */

	__CACHEPEER_A_KEY_MAX,
	CACHEPEER_A_KEY_MAX = __CACHEPEER_A_KEY_MAX - 1
};

#define CACHEPEER_KEYS_MAX	64	/* keys KEY_ADD may add */
#define CACHEPEER_SECRET_MIN	16
#define CACHEPEER_SECRET_MAX	64
#define CACHEPEER_NONCE_LEN	32

enum cachepeer_role {
	CACHEPEER_ROLE_NONE,		/* no HELLO */
	CACHEPEER_ROLE_READ,
	CACHEPEER_ROLE_WRITE,
	CACHEPEER_ROLE_MEMBER,

	__CACHEPEER_ROLE_MAX,
	CACHEPEER_ROLE_MAX = __CACHEPEER_ROLE_MAX - 1
};

enum cachepeer_access {
	CACHEPEER_ACCESS_AUTO,		/* WRITES with any key, else OPEN */
	CACHEPEER_ACCESS_OPEN,
	CACHEPEER_ACCESS_WRITES,
	CACHEPEER_ACCESS_ALL,

	__CACHEPEER_ACCESS_MAX,
	CACHEPEER_ACCESS_MAX = __CACHEPEER_ACCESS_MAX - 1
};

/* What a GET miss does when another member owns the key. */
enum cachepeer_miss {
	CACHEPEER_MISS_FORWARD,		/* fetch from the owner, relay its answer */
	CACHEPEER_MISS_REDIRECT,	/* answer REDIRECT with the owner's address */

	__CACHEPEER_MISS_MAX,
	CACHEPEER_MISS_MAX = __CACHEPEER_MISS_MAX - 1
};

enum cachepeer_evict_policy {
	CACHEPEER_EVICT_LRU,		/* least recently used first */
	CACHEPEER_EVICT_2RANDOM,	/* the older of two random blocks */
	CACHEPEER_EVICT_NONE,		/* never; PUTs over a limit fail */

	__CACHEPEER_EVICT_MAX,
	CACHEPEER_EVICT_MAX = __CACHEPEER_EVICT_MAX - 1
};

/* Wire protocol */

#define CACHEPEER_REQ_MAGIC	0x43505251	/* "CPRQ" */
#define CACHEPEER_RESP_MAGIC	0x43505253	/* "CPRS" */
#define CACHEPEER_PROTO_VERSION	1

#define CACHEPEER_KEY_MAX	250
#define CACHEPEER_SEG_SIZE	(32U * 1024)		/* CRC segment */
#define CACHEPEER_MAX_BLOCK_DEFAULT (4ULL << 20)
#define CACHEPEER_MAX_BLOCK_LIMIT (64ULL << 20)
/* NODE_SET's bounds on clients: connections, and queue and pin bytes */
#define CACHEPEER_MAX_CONNS_LIMIT 1048576
#define CACHEPEER_QUEUE_MIN	(64ULL << 10)
#define CACHEPEER_QUEUE_LIMIT	(1ULL << 40)

enum cachepeer_op {
	CACHEPEER_OP_GET = 1,
	CACHEPEER_OP_PUT,
	CACHEPEER_OP_STAT,
	CACHEPEER_OP_DEL,
	CACHEPEER_OP_PING,
	CACHEPEER_OP_RING_GET,
	CACHEPEER_OP_RING_PUSH,
	CACHEPEER_OP_HELLO,
	CACHEPEER_OP_PROBE,

	__CACHEPEER_OP_MAX,
	CACHEPEER_OP_MAX = __CACHEPEER_OP_MAX - 1
};

/* Request flags */
#define CACHEPEER_F_CRC		(1U << 0)	/* PUT: crc holds the payload's CRC */
#define CACHEPEER_F_NOFWD	(1U << 1)	/* GET: from a node; never forward */
#define CACHEPEER_F_PROOF	(1U << 2)	/* HELLO: the client's proof */
#define CACHEPEER_F_LOCAL	(1U << 3)	/* PUT, DEL: here, whatever the ring says */
#define CACHEPEER_F_ALL		(CACHEPEER_F_CRC | CACHEPEER_F_NOFWD | CACHEPEER_F_PROOF | \
				 CACHEPEER_F_LOCAL)

enum cachepeer_status {
	CACHEPEER_S_OK,
	CACHEPEER_S_NOT_FOUND,
	CACHEPEER_S_BAD_REQUEST,
	CACHEPEER_S_TOO_LARGE,
	CACHEPEER_S_NO_SPACE,
	CACHEPEER_S_BUSY,
	CACHEPEER_S_IO_ERROR,
	CACHEPEER_S_CORRUPT,
	CACHEPEER_S_REDIRECT,
	CACHEPEER_S_DENIED,
	CACHEPEER_S_CONFLICT,	/* PUT: a block of another size is stored under the key */

	__CACHEPEER_S_MAX,
	CACHEPEER_S_MAX = __CACHEPEER_S_MAX - 1
};

struct cachepeer_req {
	__be32 magic;		/* CACHEPEER_REQ_MAGIC */
	__u8 version;		/* CACHEPEER_PROTO_VERSION */
	__u8 opcode;		/* enum cachepeer_op */
	__be16 flags;		/* CACHEPEER_F_* */
	__be64 id;		/* echoed in the response */
	__be16 key_len;
	__be16 reserved;	/* must be 0 */
	__be32 crc;		/* PUT with CACHEPEER_F_CRC */
	__be64 offset;		/* GET */
	__be64 length;		/* GET; 0 means to the end of the block */
	__be64 payload_len;	/* PUT: block size; otherwise 0 */
};

struct cachepeer_resp {
	__be32 magic;		/* CACHEPEER_RESP_MAGIC */
	__be16 status;		/* enum cachepeer_status */
	__be16 reserved;
	__be64 id;
	__be64 data_len;	/* bytes following this header */
	__be64 block_size;	/* GET, STAT: size of the whole block */
	__be32 crc;		/* GET: of the data; STAT: of the whole block */
	__be32 reserved2;
	__be64 epoch;		/* the node's ring epoch */
};

/* Ring */

#define CACHEPEER_RING_MAGIC	0x43505247	/* "CPRG" */
#define CACHEPEER_RING_MEMBERS_MAX 1024
#define CACHEPEER_WEIGHT_DEFAULT 100
#define CACHEPEER_WEIGHT_MAX	1000
#define CACHEPEER_RING_POINTS	160	/* points at the default weight */
#define CACHEPEER_HMAC_LEN	32	/* HMAC-SHA256 */
#define CACHEPEER_CLUSTER_KEY_MIN 16
#define CACHEPEER_CLUSTER_KEY_MAX 64
#define CACHEPEER_HANDOFF_DEFAULT 600	/* seconds, as JuiceFS group-backup */

struct cachepeer_ring_hdr {
	__be32 magic;		/* CACHEPEER_RING_MAGIC */
	__be16 nmembers;	/* entries that follow, removed ones included */
	__u8 format;		/* CACHEPEER_RING_FORMAT (0: before per-member versions) */
	__u8 flags;		/* CACHEPEER_RING_F_* */
	__be64 epoch;		/* the sender's ring version */
	__be64 floor;		/* versions at or below it of unknown members: refused */
	__be64 time_ms;		/* pushes: signed at (ms since 1970, UTC) */
	__be64 digest;		/* XXH64 (seed 0) of the entries' encoding */
	__be16 relay_root;	/* pushes: the relay tree's root, CACHEPEER_RING_NO_RELAY */
	__u8 reserved[6];	/* must be 0 */
};

#define CACHEPEER_RING_FORMAT	1
#define CACHEPEER_RING_F_DIGEST	(1U << 0)	/* a gossip digest: no entries */
#define CACHEPEER_RING_F_PARTIAL (1U << 1)	/* only the entries an edit changed */
#define CACHEPEER_RING_NO_RELAY	0xffff
#define CACHEPEER_RING_RELAY_FANOUT 4
#define CACHEPEER_RING_MAX_AGE_S 600	/* pushes signed longer ago are refused */
#define CACHEPEER_RING_TOMBSTONE_S 86400	/* how long a removal is kept */

struct cachepeer_ring_member {
	char name[CACHEPEER_NAME_MAX + 1];	/* NUL-padded */
	__u8 addr[16];		/* IPv4 in the first 4 bytes, rest 0 */
	__be16 port;
	__be16 weight;
	__u8 family;		/* 4 or 6 */
	__u8 flags;		/* CACHEPEER_MEMBER_F_* */
	__u8 reserved[2];	/* must be 0 */
	__be64 version;		/* raised by every edit of this member */
	/* Liveness, which merges apart from the rest (see "Liveness"). */
	__be32 incarnation;	/* raised by the member alone */
	__u8 state;		/* enum cachepeer_member_state */
	__u8 reserved2[3];	/* must be 0 */
};

#define CACHEPEER_MEMBER_F_REMOVED (1U << 0)	/* a tombstone */

enum cachepeer_member_state {
	CACHEPEER_MEMBER_ALIVE,
	CACHEPEER_MEMBER_SUSPECT,	/* a probe failed; down unless it answers */
	CACHEPEER_MEMBER_DOWN,		/* routed around, still in the ring */
	__CACHEPEER_MEMBER_STATE_MAX,
	CACHEPEER_MEMBER_STATE_MAX = __CACHEPEER_MEMBER_STATE_MAX - 1
};

#define CACHEPEER_RING_ENC_MAX (sizeof(struct cachepeer_ring_hdr) + \
				CACHEPEER_RING_MEMBERS_MAX * \
				sizeof(struct cachepeer_ring_member))

#endif /* _UAPI_LINUX_CACHEPEER_H */
