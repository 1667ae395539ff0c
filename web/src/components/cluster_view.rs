use std::rc::Rc;

use yew::prelude::*;

use super::node_box::NodeBox;
use super::pod_chip::PodChip;
use super::services_bar::ServicesBar;
use super::traffic_layer::TrafficLayer;
use super::traffic_panel::TrafficPanel;
use super::workloads_bar::WorkloadsBar;
use crate::traffic_view::TrafficView;
use crate::view::{NodeView, PodView, ServiceView};

#[derive(Properties, PartialEq)]
pub struct ClusterViewProps {
    pub services: Rc<[Rc<ServiceView>]>,
    pub workloads: Rc<[Rc<crate::workloads::WorkloadView>]>,
    pub nodes: Rc<[Rc<NodeView>]>,
    pub unscheduled: Rc<[Rc<PodView>]>,
    pub traffic: Rc<TrafficView>,
}

/// One box per node, keyed by name; Pods no node accepts wait below. Traffic sources sit
/// above the Services, and their requests move over everything as dots.
#[function_component(ClusterView)]
pub fn cluster_view(p: &ClusterViewProps) -> Html {
    html! {
        <section class="cluster" aria-label="Cluster">
            <h2>{ "Cluster" }</h2>
            <TrafficPanel sources={Rc::clone(&p.traffic.sources)} />
            <WorkloadsBar workloads={Rc::clone(&p.workloads)} />
            <ServicesBar services={Rc::clone(&p.services)} rates={Rc::clone(&p.traffic.services)} />
            <div class="nodes">
                { for p.nodes.iter().map(|n| html! { <NodeBox key={n.name.clone()} node={Rc::clone(n)} /> }) }
            </div>
            if !p.unscheduled.is_empty() {
                <div class="unscheduled" aria-label="Pods not scheduled">
                    <h3>{ "Not scheduled" }</h3>
                    <ul class="pods">
                        { for p.unscheduled.iter().map(|pod| html! { <PodChip key={pod.uid.clone()} pod={Rc::clone(pod)} /> }) }
                    </ul>
                </div>
            }
            <TrafficLayer dots={Rc::clone(&p.traffic.dots)} pods={Rc::clone(&p.traffic.pods)} />
        </section>
    }
}
