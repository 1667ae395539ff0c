//! What a PodDisruptionBudget covers: its `spec.selector` (PodDisruptionBudgets are kept as
//! JSON, not a typed struct).

use super::labels::Selector;
use super::Object;

pub fn selector(pdb: &Object) -> Option<Selector> {
    let Object::Stored(s) = pdb else { return None };
    let sel: k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector =
        serde_json::from_value(s.body.get("spec")?.get("selector")?.clone()).ok()?;
    Selector::from_label_selector(&sel).ok()
}
