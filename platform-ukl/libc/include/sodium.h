/*
 * sodium.h for the in-kernel (UKL) party: the part of libsodium an MPC
 * engine uses to draw its randomness (Secrecy's sharing and seeds), over
 * the kernel's random number generator (src/sodium.c). No cryptography of
 * libsodium's own is provided; ternion's links have their own.
 */
#ifndef TERNION_LIBC_SODIUM_H
#define TERNION_LIBC_SODIUM_H

#define __need_size_t
#include <stddef.h>
#include <stdint.h>
/* libsodium's own sodium.h brings these two in, and programs written
 * against it (Secrecy's party.cpp among them) rely on that. */
#include <stdio.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 0 the first time, 1 after that, as libsodium; never -1. */
int sodium_init(void);

/* Fills buf with size random bytes. */
void randombytes_buf(void *const buf, const size_t size);

/* A random 32-bit number. */
uint32_t randombytes_random(void);

#ifdef __cplusplus
}
#endif

#endif
