//! How AWS objects are reached from the internet, for the families whose objects sit on a network
//! (security groups, network ACLs, RDS instances): which network interfaces and load balancers use
//! a group, whether a subnet routes to an internet gateway, and which ranges an object's inbound
//! rules admit. Read for drifted objects only, in batches (one `DescribeNetworkInterfaces` per
//! 200 groups, one `DescribeRouteTables` per 200 subnets).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_ec2::types::{Filter, NetworkInterface, RouteTable};

use crate::clients::aws::AwsContext;
use crate::error::Result;

/// Values per EC2 filter.
const FILTER_VALUES: usize = 200;

fn filter(name: &str, values: &[String]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.to_vec()))
        .build()
}

/// A network interface, as far as reachability goes.
#[derive(Debug, Clone)]
pub struct Interface {
    pub id: String,
    pub groups: Vec<String>,
    /// Public IPv4 (auto-assigned or Elastic IP).
    pub public_ip: Option<String>,
    pub ipv6: Vec<String>,
    pub subnet: String,
    pub vpc: String,
    /// What uses it: `i-…`, `ELB app/…`, a Lambda function; for the evidence.
    pub user: String,
}

pub fn interface(n: &NetworkInterface) -> Interface {
    let user = n
        .attachment()
        .and_then(|a| a.instance_id())
        .map(str::to_string)
        .or_else(|| {
            n.description()
                .filter(|d| !d.is_empty())
                .map(str::to_string)
        })
        .unwrap_or_default();
    Interface {
        id: n.network_interface_id().unwrap_or_default().to_string(),
        groups: n
            .groups()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect(),
        public_ip: n
            .association()
            .and_then(|a| a.public_ip())
            .filter(|ip| !ip.is_empty())
            .map(str::to_string),
        ipv6: n
            .ipv6_addresses()
            .iter()
            .filter_map(|a| a.ipv6_address().map(str::to_string))
            .collect(),
        subnet: n.subnet_id().unwrap_or_default().to_string(),
        vpc: n.vpc_id().unwrap_or_default().to_string(),
        user,
    }
}

/// The network interfaces that use any of these security groups (filter `group-id`).
pub async fn interfaces_of_groups(
    aws: &AwsContext,
    ec2: &aws_sdk_ec2::Client,
    region: &str,
    groups: &[String],
) -> Result<Vec<Interface>> {
    let mut out = Vec::new();
    for batch in groups.chunks(FILTER_VALUES) {
        let mut pages = ec2
            .describe_network_interfaces()
            .filters(filter("group-id", batch))
            .max_results(1000)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            aws.count("ec2", "DescribeNetworkInterfaces");
            let page =
                page.map_err(|e| aws.error("ec2", "DescribeNetworkInterfaces", region, e))?;
            out.extend(page.network_interfaces().iter().map(interface));
        }
    }
    Ok(out)
}

/// Where a subnet's traffic to the internet goes: the internet gateway of its `0.0.0.0/0` and
/// `::/0` routes (an egress-only gateway lets nothing in, a NAT gateway nothing in either).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Route {
    pub table: String,
    pub igw_v4: Option<String>,
    pub igw_v6: Option<String>,
}

fn route_of(t: &RouteTable) -> Route {
    let mut r = Route {
        table: t.route_table_id().unwrap_or_default().to_string(),
        ..Route::default()
    };
    for route in t.routes() {
        let Some(igw) = route.gateway_id().filter(|g| g.starts_with("igw-")) else {
            continue;
        };
        // A blackhole route (its gateway deleted) carries nothing.
        if route.state().is_some_and(|s| s.as_str() == "blackhole") {
            continue;
        }
        if route.destination_cidr_block() == Some("0.0.0.0/0") {
            r.igw_v4 = Some(igw.to_string());
        }
        if route.destination_ipv6_cidr_block() == Some("::/0") {
            r.igw_v6 = Some(igw.to_string());
        }
    }
    r
}

/// The route of each subnet, given with its VPC: its own route table, else its VPC's main one.
pub async fn subnet_routes(
    aws: &AwsContext,
    ec2: &aws_sdk_ec2::Client,
    region: &str,
    subnets: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Route>> {
    let mut out = BTreeMap::new();
    let ids: Vec<String> = subnets.keys().cloned().collect();
    for table in describe_tables(aws, ec2, region, "association.subnet-id", &ids).await? {
        let route = route_of(&table);
        for a in table.associations() {
            if let Some(s) = a.subnet_id().filter(|s| subnets.contains_key(*s)) {
                out.insert(s.to_string(), route.clone());
            }
        }
    }
    let vpcs: Vec<String> = subnets
        .iter()
        .filter(|(s, _)| !out.contains_key(*s))
        .map(|(_, v)| v.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !vpcs.is_empty() {
        let mut main: BTreeMap<String, Route> = BTreeMap::new();
        for table in describe_tables(aws, ec2, region, "vpc-id", &vpcs).await? {
            if table.associations().iter().any(|a| a.main() == Some(true)) {
                if let Some(vpc) = table.vpc_id() {
                    main.insert(vpc.to_string(), route_of(&table));
                }
            }
        }
        for (subnet, vpc) in subnets {
            if !out.contains_key(subnet) {
                if let Some(r) = main.get(vpc) {
                    out.insert(subnet.clone(), r.clone());
                }
            }
        }
    }
    Ok(out)
}

async fn describe_tables(
    aws: &AwsContext,
    ec2: &aws_sdk_ec2::Client,
    region: &str,
    name: &str,
    values: &[String],
) -> Result<Vec<RouteTable>> {
    let mut out = Vec::new();
    for batch in values.chunks(FILTER_VALUES) {
        let mut pages = ec2
            .describe_route_tables()
            .filters(filter(name, batch))
            .max_results(100)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            aws.count("ec2", "DescribeRouteTables");
            let page = page.map_err(|e| aws.error("ec2", "DescribeRouteTables", region, e))?;
            out.extend(page.route_tables().iter().cloned());
        }
    }
    Ok(out)
}

/// How an interface is reached from the internet, in words (`eni-1 (i-1), with public IP …`);
/// `None` when it is not: no public address, or no route from an internet gateway.
pub fn public_path(i: &Interface, routes: &BTreeMap<String, Route>) -> Option<String> {
    let route = routes.get(&i.subnet)?;
    let user = if i.user.is_empty() {
        String::new()
    } else {
        format!(" ({})", i.user)
    };
    if let (Some(ip), Some(igw)) = (&i.public_ip, &route.igw_v4) {
        return Some(format!(
            "{}{user}, with public IP {ip} in subnet {}, which routes 0.0.0.0/0 to {igw}",
            i.id, i.subnet
        ));
    }
    if let (Some(ip), Some(igw)) = (i.ipv6.first(), &route.igw_v6) {
        return Some(format!(
            "{}{user}, with IPv6 address {ip} in subnet {}, which routes ::/0 to {igw}",
            i.id, i.subnet
        ));
    }
    None
}

/// The internet-facing load balancers (ELBv2) of a region that use any of these groups, as
/// (group, `load balancer NAME (DNS)`).
pub async fn internet_facing_load_balancers(
    aws: &AwsContext,
    region: &str,
    groups: &BTreeSet<&str>,
) -> Result<Vec<(String, String)>> {
    let mut pages = aws
        .elbv2(region)
        .describe_load_balancers()
        .page_size(400)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        aws.count("elbv2", "DescribeLoadBalancers");
        let page = page.map_err(|e| aws.error("elbv2", "DescribeLoadBalancers", region, e))?;
        for lb in page.load_balancers() {
            if lb.scheme().map(|s| s.as_str()) != Some("internet-facing") {
                continue;
            }
            for g in lb.security_groups() {
                if groups.contains(g.as_str()) {
                    out.push((
                        g.clone(),
                        format!(
                            "internet-facing load balancer {} ({})",
                            lb.load_balancer_name().unwrap_or_default(),
                            lb.dns_name().unwrap_or_default()
                        ),
                    ));
                }
            }
        }
    }
    Ok(out)
}
