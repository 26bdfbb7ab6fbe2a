/* SPDX-License-Identifier: MIT */
#ifndef CRC32C_H
#define CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Standard CRC-32C; crc32c(crc32c(0, a), b) is the CRC of a followed by b. */
uint32_t crc32c(uint32_t crc, const void *data, size_t len);

#endif
