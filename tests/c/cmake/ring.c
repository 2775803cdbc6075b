/* Ring exchange and allreduce, checked locally: built by CMake's FindMPI. */
#include <mpi.h>
#include <stdio.h>

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    long long mine = 100 + rank, from_succ = -1, sum = 0;
    MPI_Send(&mine, 1, MPI_LONG_LONG, (rank + size - 1) % size, 0, MPI_COMM_WORLD);
    MPI_Recv(&from_succ, 1, MPI_LONG_LONG, (rank + 1) % size, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    MPI_Allreduce(&mine, &sum, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    int ok = from_succ == 100 + (rank + 1) % size && sum == 303;
    printf("ring_c rank %d: %s\n", rank, ok ? "ok" : "WRONG");
    MPI_Finalize();
    return ok ? 0 : 1;
}
