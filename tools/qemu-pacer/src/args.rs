//! The plugin's arguments (`key=value` words from QEMU's `-plugin`).

/// What the plugin was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Instructions per host second at capacity 1024.
    pub rate: u64,
    /// Each vCPU's capacity, by vCPU index.
    pub caps: Vec<u32>,
    pub credit_us: u64,
    /// Also count the instructions each vCPU executes per block start
    /// address, and write them to this file at exit (a profile).
    pub profile: Option<String>,
}

impl Config {
    /// The rate of vCPU `index` (`None`: not paced).
    pub fn vcpu_rate(&self, index: usize) -> Option<u64> {
        self.caps.get(index).map(|&c| self.rate * u64::from(c) / 1024)
    }
}

/// Parses `rate=N caps=A:B:... [credit_us=N] [profile=PATH]`.
pub fn parse<'a>(words: impl IntoIterator<Item = &'a str>) -> Result<Config, String> {
    let (mut rate, mut caps, mut credit_us, mut profile) = (None, None, 2000, None);
    for word in words {
        let (key, value) = word.split_once('=').ok_or_else(|| format!("argument {word:?} is not key=value"))?;
        let number = |v: &str| v.parse::<u64>().map_err(|_| format!("{key}: {v:?} is not a number"));
        match key {
            "rate" => rate = Some(number(value)?).filter(|&r| r > 0),
            "credit_us" => credit_us = number(value)?,
            "profile" if !value.is_empty() => profile = Some(value.to_string()),
            "caps" => {
                let list = value
                    .split(':')
                    .map(|c| match c.parse::<u32>() {
                        Ok(n) if (1..=1024).contains(&n) => Ok(n),
                        _ => Err(format!("caps: {c:?} is not a capacity from 1 to 1024")),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                caps = Some(list);
            }
            _ => return Err(format!("unknown argument {key:?} (known: rate, caps, credit_us, profile)")),
        }
    }
    Ok(Config {
        rate: rate.ok_or("rate=N (instructions per host second at capacity 1024, N > 0) is required")?,
        caps: caps.ok_or("caps=A:B:... (each vCPU's capacity) is required")?,
        credit_us,
        profile,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_scales() {
        let c = parse(["rate=100000000", "caps=1024:530", "credit_us=500"]).expect("valid");
        assert_eq!(c.caps, [1024, 530]);
        assert_eq!(c.credit_us, 500);
        assert_eq!(c.vcpu_rate(0), Some(100_000_000));
        assert_eq!(c.vcpu_rate(1), Some(51_757_812));
        assert_eq!(c.vcpu_rate(2), None);
        assert_eq!(c.profile, None);
        let c = parse(["rate=5", "caps=1024", "profile=/tmp/p.txt"]).expect("valid");
        assert_eq!(c.profile.as_deref(), Some("/tmp/p.txt"));
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        for bad in [
            vec!["rate=1", "caps=1024", "speed=2"],
            vec!["rate=x", "caps=1024"],
            vec!["rate=0", "caps=1024"],
            vec!["caps=1024"],
            vec!["rate=5"],
            vec!["rate=5", "caps=1024:0"],
            vec!["rate=5", "caps=2048"],
            vec!["rate=5", "caps="],
            vec!["rate"],
            vec!["rate=5", "caps=1024", "profile="],
        ] {
            assert!(parse(bad.iter().copied()).is_err(), "{bad:?}");
        }
    }
}
