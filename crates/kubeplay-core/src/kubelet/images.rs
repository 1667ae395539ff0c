//! Image sizes and pull times. (Approximation: real sizes depend on tag and platform; the
//! Pod-lifecycle work replaces this table with a catalogue of images.)

use crate::rng::{fnv1a64, SimRng};

/// Approximate compressed sizes of images learners use most; others get a stable size
/// derived from the name.
pub fn image_size(image: &str) -> u64 {
    let repo = image.rsplit('/').next().unwrap_or(image).split([':', '@']).next().unwrap_or("");
    match repo {
        "nginx" => 72_219_556,
        "busybox" => 2_155_170,
        "alpine" => 3_653_068,
        "httpd" => 58_226_718,
        "redis" => 45_125_393,
        "postgres" => 158_504_204,
        "mysql" => 172_338_150,
        "ubuntu" => 29_754_290,
        "debian" => 48_494_420,
        "python" => 412_538_123,
        "node" => 398_102_735,
        "hello-app" => 10_386_532,
        "pause" => 320_368,
        _ => 5_000_000 + fnv1a64(repo.as_bytes()) % 115_000_000,
    }
}

/// Pull time: ~40 MB/s plus registry round trips, ±25 % jitter.
pub fn pull_ms(rng: &mut SimRng, image: &str) -> u64 {
    let base = 400 + image_size(image) / 40_000;
    let jitter = rng.range_inclusive(0, base / 2);
    base - base / 4 + jitter
}
