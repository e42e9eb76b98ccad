//! The restriction stage: which values a user may see. Every value passes it before it
//! reaches a view, and relations are followed only through what it lets through.
//!
//! `RuleRestricter` asks the rule of each key's collection and restriction mode once per
//! batch for all ids, removes hidden values, and removes hidden objects from relation
//! values. It returns the keys the rules read, so that views can check again when one
//! of them changes.

mod audience;
mod context;
mod engine;
pub mod meeting_admin;
pub mod permission;
mod perms;
pub mod rules;

pub use audience::{Audience, ClassOf, Identity, PermissionClass, Personal, STAND_IN_USER};
pub use context::{CollectionMode, Context};
pub use engine::RuleRestricter;
pub use perms::Perms;

use crate::datastore::{DatastoreError, Value};
use crate::models::{Collection, DecodeError, Id, Key, RestrictionMode};
use futures::future::BoxFuture;
use hashbrown::HashMap;

/// Who a view is computed for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Viewer {
    /// The user id; 0 is public access.
    pub user_id: u64,
}

/// Restricting values failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RestrictError {
    /// A value a rule reads has the wrong type.
    #[error("invalid value in key {key}: {error}")]
    Value { key: Key, error: DecodeError },
    #[error("no restriction rule for {collection}/{}", mode.name())]
    NoRule {
        collection: Collection,
        mode: RestrictionMode,
    },
    #[error(transparent)]
    Datastore(#[from] DatastoreError),
}

/// The keys restriction rules read, each with the collection modes whose answers
/// depend on it.
pub type Dependencies = HashMap<Key, Vec<CollectionMode>>;

/// What a restriction run depends on.
#[derive(Debug, Default)]
pub struct Outcome {
    pub dependencies: Dependencies,
    /// Whether the audience may see each object the rules decided about, per mode. A
    /// result stays valid until a key its mode depends on changes. Restricters that
    /// decide otherwise than by rule results leave it empty.
    pub results: Vec<(CollectionMode, Id, bool)>,
    /// For a class run: the members whose values may differ.
    pub personal: Personal,
}

/// Decides which values a viewer may see.
pub trait Restricter: Send + Sync + 'static {
    /// Replaces each value the viewer may not see by `None` and removes hidden objects
    /// from relation values. Returns what the decision depends on.
    fn restrict<'a>(
        &'a self,
        viewer: Viewer,
        values: &'a mut [(Key, Value)],
    ) -> BoxFuture<'a, Result<Dependencies, RestrictError>>;

    /// Restricts for a user or a permission class. Restricters that do not run rules
    /// for classes decide a class as its stand-in and share the result with no member.
    fn restrict_for<'a>(
        &'a self,
        audience: &'a Audience,
        values: &'a mut [(Key, Value)],
    ) -> BoxFuture<'a, Result<Outcome, RestrictError>> {
        Box::pin(async move {
            let viewer = Viewer {
                user_id: audience.user_id(),
            };
            let dependencies = self.restrict(viewer, values).await?;
            Ok(Outcome {
                dependencies,
                results: Vec::new(),
                personal: Personal {
                    everyone: matches!(audience, Audience::Class(_)),
                    ..Personal::default()
                },
            })
        })
    }

    /// Decides again whether the audience may see the given objects, each list in its
    /// collection mode. `None` when the restricter does not decide by rule results, so
    /// the caller restricts the values again instead.
    fn decide<'a>(
        &'a self,
        _audience: &'a Audience,
        _objects: Vec<(CollectionMode, Vec<Id>)>,
    ) -> BoxFuture<'a, Result<Option<Outcome>, RestrictError>> {
        Box::pin(async { Ok(None) })
    }

    /// Tells whether `restrict_for` decides permission classes so that members may share.
    fn shares_classes(&self) -> bool {
        false
    }
}

/// Lets every value through, for tests of the data path.
pub struct AllVisible;

impl Restricter for AllVisible {
    fn restrict<'a>(
        &'a self,
        _viewer: Viewer,
        _values: &'a mut [(Key, Value)],
    ) -> BoxFuture<'a, Result<Dependencies, RestrictError>> {
        Box::pin(async { Ok(Dependencies::new()) })
    }
}
