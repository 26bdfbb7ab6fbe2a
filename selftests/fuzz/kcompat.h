/* SPDX-License-Identifier: GPL-2.0 */
/* Just enough of the kernel's types to build kmod/proto.c in userspace. */
#ifndef KCOMPAT_H
#define KCOMPAT_H

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#define be16_to_cpu(x) be16toh(x)
#define be32_to_cpu(x) be32toh(x)
#define be64_to_cpu(x) be64toh(x)
#define cpu_to_be16(x) htobe16(x)
#define cpu_to_be32(x) htobe32(x)
#define cpu_to_be64(x) htobe64(x)

#endif
