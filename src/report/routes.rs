//! Points grouped by route, in plan order: the one grouping the charts and the template view
//! both use.

use crate::metrics::PointResult;

/// One route and its points, in plan order.
#[derive(Debug, Clone)]
pub(crate) struct RouteGroup<'a> {
    /// Route name.
    pub(crate) name: &'a str,
    /// Route path (of its first point; every point of a route has the same).
    pub(crate) path: &'a str,
    /// Whether the route streams.
    pub(crate) stream: bool,
    /// Its points, in plan order.
    pub(crate) points: Vec<&'a PointResult>,
}

/// Group `points` by route, routes in order of first appearance.
pub(crate) fn by_route(points: &[PointResult]) -> Vec<RouteGroup<'_>> {
    let mut groups: Vec<RouteGroup<'_>> = Vec::new();
    for p in points {
        match groups.iter_mut().find(|g| g.name == p.route) {
            Some(g) => g.points.push(p),
            None => groups.push(RouteGroup {
                name: &p.route,
                path: &p.path,
                stream: p.stream,
                points: vec![p],
            }),
        }
    }
    groups
}
