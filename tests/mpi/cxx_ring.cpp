// cxx_ring: mpi.h from C++17.
//
// A Secrecy-style engine written in C++: boolean and arithmetic shares held
// in std::vector, the ring exchange (blocking MPI_Send to the predecessor
// before MPI_Recv from the successor, and MPI_Isend/MPI_Irecv/MPI_Waitall),
// an open to rank 0 (MPI_Reduce) and a reveal to all (MPI_Allreduce), and an
// MPI_Bcast of a std::vector<int>.  Results go to OUTDIR/rank<N>.txt.
// Open MPI's mpi.h otherwise pulls in its deprecated C++ bindings, whose
// headers do not compile with -Werror; other implementations ignore this.
#define OMPI_SKIP_MPICXX 1
#include <mpi.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr int kParties = 3;
constexpr int kFailureCode = 2;
constexpr std::uint64_t kStream = 0x43585852ULL;  // "CXXR"

int g_rank = -1;

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "cxx_ring rank %d: FAIL: %s\n", g_rank, what.c_str());
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, kFailureCode);
    std::exit(kFailureCode);
}

void check_mpi(int rc, const char* call) {
    if (rc != MPI_SUCCESS) fail(std::string(call) + " returned " + std::to_string(rc));
}
#define CHECK_MPI(call) check_mpi((call), #call)

std::uint64_t mix64(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// The values party `party` contributes for purpose `what`: any rank can
// compute any party's values, which is how expected results are derived.
template <typename T>
std::vector<T> values(std::uint64_t what, int party, std::size_t n) {
    std::vector<T> v(n);
    const std::uint64_t stream = mix64(mix64(kStream ^ what) ^ static_cast<std::uint64_t>(party));
    for (std::size_t i = 0; i < n; i++)
        v[i] = static_cast<T>(mix64(stream + (i + 1) * 0x9e3779b97f4a7c15ULL));
    return v;
}

std::uint64_t checksum(const void* data, std::size_t len) {
    const auto* p = static_cast<const unsigned char*>(data);
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (std::size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

std::string hex(std::uint64_t v) {
    std::ostringstream s;
    s << std::hex << std::setw(16) << std::setfill('0') << v;
    return s.str();
}

template <typename T>
void check_equal(const std::vector<T>& got, const std::vector<T>& want, const std::string& what) {
    if (got.size() != want.size()) fail(what + ": size differs");
    for (std::size_t i = 0; i < got.size(); i++)
        if (got[i] != want[i]) fail(what + ": element " + std::to_string(i) + " differs");
}

void check_status(const MPI_Status& st, MPI_Datatype type, int source, int tag, int count,
                  const std::string& what) {
    int got = -1;
    CHECK_MPI(MPI_Get_count(&st, type, &got));
    if (st.MPI_SOURCE != source || st.MPI_TAG != tag || got != count)
        fail(what + ": status source " + std::to_string(st.MPI_SOURCE) + " tag " +
             std::to_string(st.MPI_TAG) + " count " + std::to_string(got));
}

class Party {
public:
    Party(int rank, std::ofstream& out) : rank_(rank), out_(out) {}

    int pred() const { return (rank_ + kParties - 1) % kParties; }
    int succ() const { return (rank_ + 1) % kParties; }

    // Secrecy's blocking exchange of a share vector.
    template <typename T>
    std::vector<T> exchange(const std::vector<T>& mine, MPI_Datatype type, int tag) {
        std::vector<T> theirs(mine.size());
        const int n = static_cast<int>(mine.size());
        CHECK_MPI(MPI_Send(mine.data(), n, type, pred(), tag, MPI_COMM_WORLD));
        MPI_Status st;
        CHECK_MPI(MPI_Recv(theirs.data(), n, type, succ(), tag, MPI_COMM_WORLD, &st));
        check_status(st, type, succ(), tag, n, "exchange tag " + std::to_string(tag));
        return theirs;
    }

    // The same with nonblocking calls.
    template <typename T>
    std::vector<T> exchange_async(const std::vector<T>& mine, MPI_Datatype type, int tag) {
        std::vector<T> theirs(mine.size());
        const int n = static_cast<int>(mine.size());
        MPI_Request reqs[2];
        MPI_Status sts[2];
        CHECK_MPI(MPI_Irecv(theirs.data(), n, type, succ(), tag, MPI_COMM_WORLD, &reqs[0]));
        CHECK_MPI(MPI_Isend(mine.data(), n, type, pred(), tag, MPI_COMM_WORLD, &reqs[1]));
        CHECK_MPI(MPI_Waitall(2, reqs, sts));
        check_status(sts[0], type, succ(), tag, n, "async exchange tag " + std::to_string(tag));
        return theirs;
    }

    void record(const std::string& line) { out_ << line << '\n'; }
    int rank() const { return rank_; }

private:
    int rank_;
    std::ofstream& out_;
};

void ring_round(Party& party, std::size_t n) {
    const std::string size = std::to_string(n);
    // unsigned long long shares: blocking and asynchronous exchange.
    auto mine = values<unsigned long long>(1, party.rank(), n);
    auto got = party.exchange(mine, MPI_UNSIGNED_LONG_LONG, 1);
    check_equal(got, values<unsigned long long>(1, party.succ(), n), "exchange ull n=" + size);
    party.record("exchange ull n=" + size + " checksum=" + hex(checksum(got.data(), n * 8)));

    auto got_async = party.exchange_async(mine, MPI_UNSIGNED_LONG_LONG, 2);
    check_equal(got_async, values<unsigned long long>(1, party.succ(), n),
                "async exchange ull n=" + size);
    party.record("exchange_async ull n=" + size +
                 " checksum=" + hex(checksum(got_async.data(), n * 8)));

    // int and double vectors.
    auto mine_int = values<int>(2, party.rank(), n);
    auto got_int = party.exchange(mine_int, MPI_INT, 3);
    check_equal(got_int, values<int>(2, party.succ(), n), "exchange int n=" + size);
    party.record("exchange int n=" + size +
                 " checksum=" + hex(checksum(got_int.data(), n * sizeof(int))));

    std::vector<double> mine_dbl(n), want_dbl(n);
    auto raw_mine = values<std::int32_t>(3, party.rank(), n);
    auto raw_succ = values<std::int32_t>(3, party.succ(), n);
    for (std::size_t i = 0; i < n; i++) {
        mine_dbl[i] = raw_mine[i] / 4.0;  // exact
        want_dbl[i] = raw_succ[i] / 4.0;
    }
    auto got_dbl = party.exchange(mine_dbl, MPI_DOUBLE, 4);
    check_equal(got_dbl, want_dbl, "exchange double n=" + size);
    party.record("exchange double n=" + size +
                 " checksum=" + hex(checksum(got_dbl.data(), n * sizeof(double))));
}

void open_round(Party& party, std::size_t n) {
    const std::string size = std::to_string(n);
    const int count = static_cast<int>(n);
    // The three parties' first shares; the secret is their XOR / wrapping sum.
    std::vector<unsigned long long> secret_xor(n, 0), secret_sum(n, 0);
    for (int p = 0; p < kParties; p++) {
        auto s = values<unsigned long long>(5, p, n);
        for (std::size_t i = 0; i < n; i++) {
            secret_xor[i] ^= s[i];
            secret_sum[i] += s[i];
        }
    }
    auto mine = values<unsigned long long>(5, party.rank(), n);

    std::vector<long long> opened_b(n, 0);
    std::vector<long long> mine_b(mine.begin(), mine.end());
    CHECK_MPI(MPI_Reduce(mine_b.data(), opened_b.data(), count, MPI_LONG_LONG, MPI_BXOR, 0,
                         MPI_COMM_WORLD));
    if (party.rank() == 0) {
        check_equal(std::vector<unsigned long long>(opened_b.begin(), opened_b.end()), secret_xor,
                    "open boolean n=" + size);
        party.record("open boolean n=" + size +
                     " checksum=" + hex(checksum(opened_b.data(), n * 8)));
    }

    std::vector<unsigned long long> revealed(n, 0);
    CHECK_MPI(MPI_Allreduce(mine.data(), revealed.data(), count, MPI_UNSIGNED_LONG_LONG, MPI_SUM,
                            MPI_COMM_WORLD));
    check_equal(revealed, secret_sum, "reveal arithmetic n=" + size);
    party.record("reveal arithmetic n=" + size +
                 " checksum=" + hex(checksum(revealed.data(), n * 8)));
}

void bcast_round(Party& party) {
    const auto want = values<int>(6, 0, 100);
    std::vector<int> params = party.rank() == 0 ? want : std::vector<int>(want.size(), 0);
    CHECK_MPI(MPI_Bcast(params.data(), static_cast<int>(params.size()), MPI_INT, 0,
                        MPI_COMM_WORLD));
    check_equal(params, want, "bcast");
    party.record("bcast n=100 checksum=" + hex(checksum(params.data(), params.size() * 4)));
}

}  // namespace

int main(int argc, char** argv) {
    CHECK_MPI(MPI_Init(&argc, &argv));
    CHECK_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &g_rank));
    int size = -1;
    CHECK_MPI(MPI_Comm_size(MPI_COMM_WORLD, &size));
    if (size != kParties) fail("MPI_Comm_size " + std::to_string(size));
    if (argc != 2) fail("usage: cxx_ring OUTDIR");
    const std::string path = std::string(argv[1]) + "/rank" + std::to_string(g_rank) + ".txt";
    std::ofstream out(path);
    if (!out) fail("cannot open " + path);

    Party party(g_rank, out);
    for (std::size_t n : {std::size_t{1}, std::size_t{1000}, std::size_t{1000000}}) {
        ring_round(party, n);
        open_round(party, n);
    }
    bcast_round(party);

    out.close();
    if (!out) fail("writing " + path + " failed");
    CHECK_MPI(MPI_Finalize());
    return 0;
}
