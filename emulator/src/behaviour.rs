//! Which server the emulator imitates: the production service, quirks included, or the API as
//! documented.

/// Which behaviour the emulator serves; see [`EmulatorBuilder::behaviour`](crate::EmulatorBuilder::behaviour).
///
/// Code tested against the emulator must work against the real service, so the default is
/// [`Behaviour::Production`]: every difference between the production server and the documented
/// API that a client or a receiver can observe is reproduced. [`Behaviour::Documented`] serves
/// what the API evidently means instead. The crate docs list every difference with its number
/// (P1–P16) in the wire reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Behaviour {
    /// What the production service does, quirks included (the default).
    #[default]
    Production,
    /// What the API documentation describes.
    Documented,
}

impl Behaviour {
    /// Whether production's quirks are reproduced.
    pub fn is_production(self) -> bool {
        self == Behaviour::Production
    }
}
