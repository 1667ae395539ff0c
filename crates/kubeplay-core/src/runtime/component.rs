//! A component declares what it watches, as kube-rs' `Controller::new(kind).owns(kind)
//! .watches(kind, mapper)` and client-go's informer handlers do, and reconciles one key at a
//! time: it reads through the API server and writes only through it. It never calls another
//! component; what it writes reaches the others as watch events.

use crate::api::{controller_owner, ObjectKey};
use crate::apiserver::{ApiServer, Change};
use crate::rng::SimRng;
use crate::time::{SimDuration, SimTime};

/// Maps a watch event on another kind to the keys to reconcile.
pub type Mapper = fn(&ApiServer, &Change, &mut Vec<ObjectKey>);

#[derive(Clone, Copy)]
pub enum Relation {
    /// A change to the object itself reconciles it.
    Reconciles,
    /// A change to an object whose controller is of the reconciled kind reconciles that owner.
    Owns,
    /// A change maps to keys to reconcile.
    Maps(Mapper),
    /// The component sees the change itself (`observe`), to keep its own caches current.
    Observes,
}

/// One watch: a kind (`"*"` for every kind) and what a change to it means.
#[derive(Clone, Copy)]
pub struct Watch {
    pub kind: &'static str,
    pub relation: Relation,
}

/// Everything a component watches, and the kind it reconciles.
#[derive(Clone, Default)]
pub struct Watches {
    pub reconciled: Option<&'static str>,
    pub watches: Vec<Watch>,
}

impl Watches {
    /// Reconciles objects of `kind`.
    pub fn reconciles(kind: &'static str) -> Watches {
        Watches { reconciled: Some(kind), watches: vec![Watch { kind, relation: Relation::Reconciles }] }
    }

    /// Watches nothing yet (a component driven by `observe` and its timer).
    pub fn none() -> Watches {
        Watches::default()
    }

    /// Objects of `kind` that the reconciled kind controls.
    pub fn owns(mut self, kind: &'static str) -> Watches {
        self.watches.push(Watch { kind, relation: Relation::Owns });
        self
    }

    pub fn watches(mut self, kind: &'static str, mapper: Mapper) -> Watches {
        self.watches.push(Watch { kind, relation: Relation::Maps(mapper) });
        self
    }

    pub fn observes(mut self, kind: &'static str) -> Watches {
        self.watches.push(Watch { kind, relation: Relation::Observes });
        self
    }

    /// The owner a change maps to under `Owns`: the controller reference of the reconciled kind.
    pub fn owner_key(&self, change: &Change) -> Option<ObjectKey> {
        let kind = self.reconciled?;
        let owner = controller_owner(&change.object).filter(|o| o.kind == kind)?;
        Some(ObjectKey::new(kind, &change.key.namespace, &owner.name))
    }
}

/// What a reconcile asks for next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nothing until a watched change.
    AwaitChange,
    /// Reconcile this key (or tick) again after the duration.
    RequeueAfter(SimDuration),
}

/// Work a component asks for while observing a change.
#[derive(Debug, Default)]
pub struct Requests {
    pub keys: Vec<(ObjectKey, SimDuration)>,
    pub tick: Option<SimDuration>,
}

impl Requests {
    pub fn reconcile(&mut self, key: ObjectKey) {
        self.keys.push((key, SimDuration::ZERO));
    }

    pub fn reconcile_after(&mut self, key: ObjectKey, after: SimDuration) {
        self.keys.push((key, after));
    }

    /// Asks for the component's timer; the earliest request wins.
    pub fn tick_after(&mut self, after: SimDuration) {
        self.tick = Some(self.tick.map_or(after, |t| t.min(after)));
    }
}

/// What a reconcile may touch: the API server (reads, and every write) and the component's
/// own random stream.
pub struct Ctx<'a> {
    pub api: &'a mut ApiServer,
    pub rng: &'a mut SimRng,
}

impl Ctx<'_> {
    pub fn now(&self) -> SimTime {
        self.api.now()
    }
}

/// A controller, the scheduler, the kubelet: anything that reacts to the cluster's state.
pub trait Component {
    /// The component's name; also names its random stream.
    fn name(&self) -> &'static str;

    /// What the component hears about.
    fn watches(&self) -> Watches;

    /// Sees a change it declared `Observes` for, before any reconcile it causes; keeps caches
    /// current and may ask for work.
    fn observe(&mut self, _api: &ApiServer, _rng: &mut SimRng, _change: &Change, _requests: &mut Requests) {}

    /// Brings one object towards its desired state.
    fn reconcile(&mut self, _ctx: &mut Ctx<'_>, _key: &ObjectKey) -> Action {
        Action::AwaitChange
    }

    /// The component's timer fired.
    fn tick(&mut self, _ctx: &mut Ctx<'_>) -> Action {
        Action::AwaitChange
    }

    /// Compares the component's caches with a recomputation from the store (for tests).
    fn check_cache(&self, _api: &ApiServer) -> Result<(), String> {
        Ok(())
    }

    /// A copy for a cloned simulation (the playground keeps snapshots).
    fn clone_box(&self) -> Box<dyn Component>;
}
