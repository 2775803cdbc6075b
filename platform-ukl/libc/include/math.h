/* math for the in-kernel (UKL) party: musl's libm through the Rust side
 * (src/math.rs), in software: doubles are soft-float in the kernel. */
#ifndef TERNION_LIBC_MATH_H
#define TERNION_LIBC_MATH_H

#ifdef __cplusplus
extern "C" {
#endif

#define HUGE_VAL (__builtin_huge_val())
#define INFINITY (__builtin_inff())
#define NAN (__builtin_nanf(""))

double ceil(double x);
double floor(double x);
double log2(double x);
double sqrt(double x);
double fabs(double x);
double round(double x);
double log(double x);
double exp(double x);
double pow(double x, double y);

#ifdef __cplusplus
}
#endif

#endif
