// Non-blocking ring exchange of a vector, checked locally: built by CMake's FindMPI.
#include <mpi.h>
#include <cstdio>
#include <vector>

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    std::vector<unsigned long long> mine(4096, 7u + rank), from_succ(4096, 0);
    MPI_Request reqs[2];
    MPI_Irecv(from_succ.data(), 4096, MPI_UNSIGNED_LONG_LONG, (rank + 1) % 3, 1, MPI_COMM_WORLD, &reqs[0]);
    MPI_Isend(mine.data(), 4096, MPI_UNSIGNED_LONG_LONG, (rank + 2) % 3, 1, MPI_COMM_WORLD, &reqs[1]);
    MPI_Waitall(2, reqs, MPI_STATUSES_IGNORE);
    bool ok = from_succ.front() == 7u + (rank + 1) % 3 && from_succ.back() == from_succ.front();
    std::printf("ring_cxx rank %d: %s\n", rank, ok ? "ok" : "WRONG");
    MPI_Finalize();
    return ok ? 0 : 1;
}
