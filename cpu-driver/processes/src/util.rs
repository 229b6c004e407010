//! Utilization: how much of a core a program uses, as a decaying average of
//! its running time (PELT-like, as Linux's `util_avg`): the past loses half
//! its weight every [`HALF_LIFE_NS`] (32 periods of 1024 us), and time is
//! counted at the capacity of the core it ran on, so a program busy all the
//! time on a 530 core has utilization 530, not 1024.
//!
//! The average is updated whenever the program's state on a core changes
//! (it starts running, or it stops): over an interval of `dt` it decays by
//! `d = 2^(-dt / HALF_LIFE_NS)` and, if the program ran throughout, gains
//! `capacity * (1 - d)`. Integer arithmetic only.

/// The average's half-life: 32 periods of 1024 us.
pub const HALF_LIFE_NS: u64 = 32 * 1_024_000;
/// Utilization of a program that ran all the time on a core of capacity 1024.
pub const FULL: u32 = 1024;

/// `2^(-i/64)` in 32-bit fixed point, for `i` in `0..=64`.
const POW2_NEG: [u64; 65] = [
    4294967296, 4248701965, 4202935003, 4157661043, 4112874773, 4068570940, 4024744348, 3981389855, 3938502376,
    3896076880, 3854108391, 3812591987, 3771522796, 3730896002, 3690706840, 3650950594, 3611622603, 3572718252,
    3534232978, 3496162267, 3458501653, 3421246719, 3384393094, 3347936457, 3311872529, 3276197082, 3240905930,
    3205994934, 3171459999, 3137297074, 3103502151, 3070071267, 3037000500, 3004285971, 2971923842, 2939910317,
    2908241642, 2876914102, 2845924021, 2815267765, 2784941738, 2754942382, 2725266179, 2695909648, 2666869345,
    2638141863, 2609723834, 2581611923, 2553802834, 2526293303, 2499080105, 2472160047, 2445529972, 2419186755,
    2393127307, 2367348571, 2341847524, 2316621173, 2291666561, 2266980759, 2242560872, 2218404036, 2194507417,
    2170868212, 2147483648,
];

/// The demand's half-life: 4 periods of 1024 us, so a program that turns
/// heavy is seen so within about 6 ms (from nothing to [`HEAVY_ABOVE`]),
/// while a light program's wake-ups of a few hundred microseconds stay far
/// below it (`bench sched` m3, switch to a big core: with 8 periods, 22.0
/// / 21.0 ms on 4+4 / 4+2+2, most of it the 14 ms until a round saw it).
pub const DEMAND_HALF_LIFE_NS: u64 = 4 * 1_024_000;

/// `2^(-dt / half_life)` in 32-bit fixed point.
fn decay(dt_ns: u64, half_life: u64) -> u64 {
    let halvings = dt_ns / half_life;
    if halvings >= 32 {
        return 0;
    }
    // What is left of the half-life, in 64ths, between two of the table's
    // entries (interpolated).
    let rest = dt_ns % half_life;
    let step = (rest * 64 / half_life) as usize;
    let within = rest * 64 % half_life;
    let (a, b) = (POW2_NEG[step], POW2_NEG[step + 1]);
    let frac = a - (u128::from(a - b) * u128::from(within) / u128::from(half_life)) as u64;
    frac >> halvings
}

/// An `auto` program counts as heavy once its demand (the decaying share
/// of time it is ready or running, in 1024ths) reaches this: it would fill
/// a core of its own, so a bigger one would serve it better (Linux's misfit
/// test uses 80% of the core's capacity; demand, unlike utilization, also
/// counts the time a program waits for a core it shares). 62.5% rather
/// than 75%: seen 4 ms sooner (`bench sched` m3, switch to a big core:
/// 28 / 26 ms against 34 / 32 ms on 4+4 / 4+2+2), while a light program
/// that wakes every 10 ms for a tenth of a unit stays below 5%.
pub const HEAVY_ABOVE: u32 = 640;
/// ... and as light again once it falls below this share: the gap keeps a
/// program near one threshold from flapping between the two.
pub const LIGHT_BELOW: u32 = 512;

/// Whether a program of `class` counts as heavy now, given whether it did
/// (`was_heavy`) and its demand.
pub fn classify(class: user_abi::Class, was_heavy: bool, demand: u32) -> bool {
    match class {
        user_abi::Class::Heavy => true,
        user_abi::Class::Light => false,
        user_abi::Class::Auto if was_heavy => demand >= LIGHT_BELOW,
        user_abi::Class::Auto => demand >= HEAVY_ABOVE,
    }
}

/// The average's fixed-point scale: small contributions are not lost.
const SCALE: u32 = 20;

/// One program's utilization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Average<const HALF_LIFE: u64> {
    /// The average, 0 to 1024, times 2^SCALE.
    avg: u64,
    /// When it was last brought up to date (ns).
    last_ns: u64,
}

/// Utilization: running time at the core's capacity, half-life 32 ms.
pub type Utilization = Average<HALF_LIFE_NS>;
/// Demand: time ready or running, at 1024, half-life 8 ms.
pub type Demand = Average<DEMAND_HALF_LIFE_NS>;

impl<const HALF_LIFE: u64> Average<HALF_LIFE> {
    /// A new program's, starting at `now_ns`.
    pub fn new(now_ns: u64) -> Self {
        Average { avg: 0, last_ns: now_ns }
    }

    /// Brings the average up to `now_ns`: the program ran throughout the
    /// interval since the last update, on a core of capacity `ran_at` (out
    /// of 1024), or (`None`) did not run at all.
    pub fn update(&mut self, now_ns: u64, ran_at: Option<u32>) {
        let dt = now_ns.saturating_sub(self.last_ns);
        self.last_ns = self.last_ns.max(now_ns);
        if dt == 0 {
            return;
        }
        let d = decay(dt, HALF_LIFE);
        let kept = ((u128::from(self.avg) * u128::from(d)) >> 32) as u64;
        let gained = match ran_at {
            Some(capacity) => {
                let target = u64::from(capacity.min(FULL)) << SCALE;
                ((u128::from(target) * u128::from((1u64 << 32) - d)) >> 32) as u64
            }
            None => 0,
        };
        self.avg = kept + gained;
    }

    /// The average, 0 to 1024.
    /// The average as of `now_ns` (decayed), for carrying it to another node.
    pub fn carried(&self, now_ns: u64) -> u64 {
        let mut u = *self;
        u.update(now_ns, None);
        u.avg
    }

    /// An average carried from another node, as of `now_ns` here.
    pub fn arrived(avg: u64, now_ns: u64) -> Self {
        Average { avg: avg.min(u64::from(FULL) << SCALE), last_ns: now_ns }
    }

    pub fn value(&self) -> u32 {
        ((self.avg + (1 << (SCALE - 1))) >> SCALE).min(u64::from(FULL)) as u32
    }
}
