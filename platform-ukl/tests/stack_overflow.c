/*
 * stack_overflow: recurses until the application's 1 MiB stack runs out,
 * to show that the page below it is a guard. The overflow must fault (the
 * kernel reports it and stops the machine), never run on into the memory
 * below. Linked into the kernel image only; scripts/run-qemu.sh
 * --stack-guard boots it.
 */
#include <stdio.h>

/* Bytes of stack each call uses; 4 MiB in all is far past the stack's end. */
#define FRAME_BYTES (16 * 1024)
#define MAX_DEPTH 256

static int descend(int depth)
{
    volatile unsigned char frame[FRAME_BYTES];

    for (int i = 0; i < FRAME_BYTES; i++)
        frame[i] = (unsigned char)(depth + i);
    if (depth % 8 == 0)
        printf("stack_overflow: %d KiB deep\n", depth * (FRAME_BYTES / 1024));
    if (depth == MAX_DEPTH)
        return 0;
    return descend(depth + 1) + frame[depth];
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("stack_overflow: descending\n");
    descend(1);
    printf("stack_overflow: %d KiB of stack and no fault: the stack is not guarded\n",
           MAX_DEPTH * (FRAME_BYTES / 1024));
    return 1;
}
