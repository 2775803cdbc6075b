/*
 * mpi.h: the part of MPI that three-party MPC engines use, implemented by
 * ternion (libternion_mpi). Build with ternion-mpicc / ternion-mpicxx and run
 * with `ternion run -n 3 -- ./program`.
 *
 * Semantics follow the MPI standard for these calls, with ternion's
 * guarantees: a blocking MPI_Send before MPI_Recv never deadlocks (the
 * receiver buffers what it has not asked for yet, up to a bound); messages
 * between a pair with the same tag arrive in order; a receive shorter than
 * its message is MPI_ERR_TRUNCATE. The only communicator is MPI_COMM_WORLD
 * (3 ranks); a rank cannot message itself. Errors use MPI's default handler:
 * the call prints what failed, naming the rank, and aborts the job, unless
 * MPI_Comm_set_errhandler selected MPI_ERRORS_RETURN.
 * MPI_Abort ends all three parties with the given code.
 */
#ifndef TERNION_MPI_H
#define TERNION_MPI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int MPI_Comm;
typedef int MPI_Datatype;
typedef int MPI_Op;
typedef int64_t MPI_Request;
typedef int MPI_Errhandler;

typedef struct MPI_Status {
    int MPI_SOURCE;
    int MPI_TAG;
    int MPI_ERROR;
    int ternion_reserved;
    int64_t ternion_bytes; /* read with MPI_Get_count */
} MPI_Status;

#define MPI_COMM_WORLD ((MPI_Comm)1)
#define MPI_REQUEST_NULL ((MPI_Request)0)
#define MPI_ANY_SOURCE (-1)
#define MPI_ANY_TAG (-1)
#define MPI_UNDEFINED (-32766)
#define MPI_STATUS_IGNORE ((MPI_Status *)0)
#define MPI_STATUSES_IGNORE ((MPI_Status *)0)
#define MPI_MAX_ERROR_STRING 256
#define MPI_ERRORS_ARE_FATAL ((MPI_Errhandler)1) /* the default */
#define MPI_ERRORS_RETURN ((MPI_Errhandler)2)

/* Datatypes: C long is 64-bit on the (LP64) platforms ternion supports. */
#define MPI_CHAR ((MPI_Datatype)1)
#define MPI_UNSIGNED_CHAR ((MPI_Datatype)2)
#define MPI_BYTE ((MPI_Datatype)3)
#define MPI_SHORT ((MPI_Datatype)4)
#define MPI_UNSIGNED_SHORT ((MPI_Datatype)5)
#define MPI_INT ((MPI_Datatype)6)
#define MPI_UNSIGNED ((MPI_Datatype)7)
#define MPI_LONG ((MPI_Datatype)8)
#define MPI_UNSIGNED_LONG ((MPI_Datatype)9)
#define MPI_LONG_LONG ((MPI_Datatype)10)
#define MPI_LONG_LONG_INT MPI_LONG_LONG
#define MPI_UNSIGNED_LONG_LONG ((MPI_Datatype)11)
#define MPI_FLOAT ((MPI_Datatype)12)
#define MPI_DOUBLE ((MPI_Datatype)13)
#define MPI_C_BOOL ((MPI_Datatype)14)
#define MPI_INT8_T ((MPI_Datatype)15)
#define MPI_INT16_T ((MPI_Datatype)16)
#define MPI_INT32_T ((MPI_Datatype)17)
#define MPI_INT64_T ((MPI_Datatype)18)
#define MPI_UINT8_T ((MPI_Datatype)19)
#define MPI_UINT16_T ((MPI_Datatype)20)
#define MPI_UINT32_T ((MPI_Datatype)21)
#define MPI_UINT64_T ((MPI_Datatype)22)
#define MPI_SIGNED_CHAR ((MPI_Datatype)23)

/* Reduction operations (integer types; SUM, PROD, MAX, MIN also on floats). */
#define MPI_SUM ((MPI_Op)1)
#define MPI_MAX ((MPI_Op)2)
#define MPI_MIN ((MPI_Op)3)
#define MPI_BAND ((MPI_Op)4)
#define MPI_BOR ((MPI_Op)5)
#define MPI_BXOR ((MPI_Op)6)
#define MPI_PROD ((MPI_Op)7)

/* Error codes. */
#define MPI_SUCCESS 0
#define MPI_ERR_BUFFER 1
#define MPI_ERR_COUNT 2
#define MPI_ERR_TYPE 3
#define MPI_ERR_TAG 4
#define MPI_ERR_COMM 5
#define MPI_ERR_RANK 6
#define MPI_ERR_REQUEST 7
#define MPI_ERR_ROOT 8
#define MPI_ERR_OP 9
#define MPI_ERR_ARG 10
#define MPI_ERR_TRUNCATE 11
#define MPI_ERR_OTHER 12
#define MPI_ERR_INTERN 13
#define MPI_ERR_IN_STATUS 14
#define MPI_ERR_PENDING 15
#define MPI_ERR_NOT_INITIALIZED 16
#define MPI_ERR_LINK 17 /* ternion: the link to a party failed */
#define MPI_ERR_LASTCODE 18

int MPI_Init(int *argc, char ***argv);
int MPI_Finalize(void);
int MPI_Initialized(int *flag);
int MPI_Finalized(int *flag);
int MPI_Comm_rank(MPI_Comm comm, int *rank);
int MPI_Comm_size(MPI_Comm comm, int *size);
int MPI_Abort(MPI_Comm comm, int errorcode);

int MPI_Send(const void *buf, int count, MPI_Datatype datatype, int dest, int tag, MPI_Comm comm);
int MPI_Recv(void *buf, int count, MPI_Datatype datatype, int source, int tag, MPI_Comm comm,
             MPI_Status *status);
int MPI_Sendrecv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, int dest, int sendtag,
                 void *recvbuf, int recvcount, MPI_Datatype recvtype, int source, int recvtag,
                 MPI_Comm comm, MPI_Status *status);
int MPI_Isend(const void *buf, int count, MPI_Datatype datatype, int dest, int tag, MPI_Comm comm,
              MPI_Request *request);
int MPI_Irecv(void *buf, int count, MPI_Datatype datatype, int source, int tag, MPI_Comm comm,
              MPI_Request *request);
int MPI_Wait(MPI_Request *request, MPI_Status *status);
int MPI_Waitall(int count, MPI_Request requests[], MPI_Status statuses[]);
int MPI_Test(MPI_Request *request, int *flag, MPI_Status *status);
int MPI_Testall(int count, MPI_Request requests[], int *flag, MPI_Status statuses[]);
int MPI_Get_count(const MPI_Status *status, MPI_Datatype datatype, int *count);

int MPI_Barrier(MPI_Comm comm);
int MPI_Bcast(void *buf, int count, MPI_Datatype datatype, int root, MPI_Comm comm);
int MPI_Reduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op,
               int root, MPI_Comm comm);
int MPI_Allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype, MPI_Op op,
                  MPI_Comm comm);

int MPI_Comm_set_errhandler(MPI_Comm comm, MPI_Errhandler errhandler);
double MPI_Wtime(void);
int MPI_Error_string(int errorcode, char *string, int *resultlen);

#ifdef __cplusplus
}
#endif

#endif /* TERNION_MPI_H */
