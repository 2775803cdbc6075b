//! How fast each well-kept AEAD implementation seals records on one core
//! of this machine: the figure that bounds an encrypted link's CPU per GiB
//! (each byte sent is sealed once and opened once).
//!
//!     cargo run --release --manifest-path bench/aead/Cargo.toml [-- --quick]
//!
//! Prints one JSON object: for each implementation, algorithm and record
//! size, the median GiB/s of sealing in place over several runs, and the
//! CPU seconds per GiB that a seal plus an open of the same bytes would
//! cost (twice the seal time; opening runs the same cipher and GHASH).

use std::hint::black_box;
use std::time::Instant;

/// Noise's largest transport message (ternion's record) and a smaller one.
const RECORD_SIZES: [usize; 2] = [16 * 1024, 65_519];

trait Sealer {
    fn seal(&self, nonce: u64, buf: &mut [u8]) -> [u8; 16];
}

fn nonce_bytes(n: u64) -> [u8; 12] {
    let mut b = [0u8; 12];
    b[4..].copy_from_slice(&n.to_le_bytes());
    b
}

struct Ring(ring::aead::LessSafeKey);
impl Sealer for Ring {
    fn seal(&self, nonce: u64, buf: &mut [u8]) -> [u8; 16] {
        let n = ring::aead::Nonce::assume_unique_for_key(nonce_bytes(nonce));
        let tag = self
            .0
            .seal_in_place_separate_tag(n, ring::aead::Aad::empty(), buf)
            .expect("ring seal");
        tag.as_ref().try_into().expect("16-byte tag")
    }
}

struct AwsLc(aws_lc_rs::aead::LessSafeKey);
impl Sealer for AwsLc {
    fn seal(&self, nonce: u64, buf: &mut [u8]) -> [u8; 16] {
        let n = aws_lc_rs::aead::Nonce::assume_unique_for_key(nonce_bytes(nonce));
        let tag = self
            .0
            .seal_in_place_separate_tag(n, aws_lc_rs::aead::Aad::empty(), buf)
            .expect("aws-lc-rs seal");
        tag.as_ref().try_into().expect("16-byte tag")
    }
}

struct RustCryptoAes(aes_gcm::Aes256Gcm);
impl Sealer for RustCryptoAes {
    fn seal(&self, nonce: u64, buf: &mut [u8]) -> [u8; 16] {
        use aes_gcm::aead::AeadInPlace;
        let n = nonce_bytes(nonce);
        let tag = self
            .0
            .encrypt_in_place_detached(&n.into(), &[], buf)
            .expect("aes-gcm seal");
        tag.into()
    }
}

struct RustCryptoChaCha(chacha20poly1305::ChaCha20Poly1305);
impl Sealer for RustCryptoChaCha {
    fn seal(&self, nonce: u64, buf: &mut [u8]) -> [u8; 16] {
        use chacha20poly1305::aead::AeadInPlace;
        let n = nonce_bytes(nonce);
        let tag = self
            .0
            .encrypt_in_place_detached(&n.into(), &[], buf)
            .expect("chacha20poly1305 seal");
        tag.into()
    }
}

/// Median GiB/s of sealing `bytes` of records, over `runs` runs.
fn measure(sealer: &dyn Sealer, record: usize, bytes: usize, runs: usize) -> f64 {
    let mut buf = vec![0x5au8; record];
    let records = bytes / record;
    let mut nonce = 0;
    let mut rates = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        for _ in 0..records {
            nonce += 1;
            black_box(sealer.seal(nonce, &mut buf));
        }
        let s = t.elapsed().as_secs_f64();
        rates.push((records * record) as f64 / s / (1u64 << 30) as f64);
    }
    rates.sort_by(f64::total_cmp);
    rates[runs / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (bytes, runs) = if quick { (64 << 20, 3) } else { (1 << 30, 7) };
    let key = [7u8; 32];
    let ring_key = |alg| {
        Ring(ring::aead::LessSafeKey::new(
            ring::aead::UnboundKey::new(alg, &key).expect("key"),
        ))
    };
    let aws_key = |alg| {
        AwsLc(aws_lc_rs::aead::LessSafeKey::new(
            aws_lc_rs::aead::UnboundKey::new(alg, &key).expect("key"),
        ))
    };
    let aes = {
        use aes_gcm::KeyInit;
        RustCryptoAes(aes_gcm::Aes256Gcm::new(&key.into()))
    };
    let chacha = {
        use chacha20poly1305::KeyInit;
        RustCryptoChaCha(chacha20poly1305::ChaCha20Poly1305::new(&key.into()))
    };
    let cases: Vec<(&str, &str, Box<dyn Sealer>)> = vec![
        (
            "ring",
            "aes256gcm",
            Box::new(ring_key(&ring::aead::AES_256_GCM)),
        ),
        (
            "aws-lc-rs",
            "aes256gcm",
            Box::new(aws_key(&aws_lc_rs::aead::AES_256_GCM)),
        ),
        ("rustcrypto", "aes256gcm", Box::new(aes)),
        (
            "ring",
            "chacha20poly1305",
            Box::new(ring_key(&ring::aead::CHACHA20_POLY1305)),
        ),
        (
            "aws-lc-rs",
            "chacha20poly1305",
            Box::new(aws_key(&aws_lc_rs::aead::CHACHA20_POLY1305)),
        ),
        ("rustcrypto", "chacha20poly1305", Box::new(chacha)),
    ];
    let mut rows = Vec::new();
    for record in RECORD_SIZES {
        for (implementation, algorithm, sealer) in &cases {
            let gib_per_s = measure(sealer.as_ref(), record, bytes, runs);
            rows.push(format!(
                "{{\"implementation\": \"{implementation}\", \"algorithm\": \"{algorithm}\", \
                 \"record_bytes\": {record}, \"seal_gib_per_s\": {gib_per_s:.3}, \
                 \"seal_and_open_cpu_s_per_gib\": {:.4}}}",
                2.0 / gib_per_s
            ));
        }
    }
    println!("{{\"quick\": {quick}, \"bytes_per_run\": {bytes}, \"runs\": {runs}, \"results\": [\n  {}\n]}}", rows.join(",\n  "));
}
