//! EC2 Query API answers: a describe call's items (`<vpcSet><item>…`) and
//! next token, read into gantry-aws-wire's element tree (the SDK's XML
//! decoder underneath; the error document is read by its Query service).
//! Element names as the EC2 API Reference (2016-11-15) gives them in each
//! action's "Response Elements".

use gantry_aws_wire::xml::Element;
use gantry_aws_wire::CallError;
use std::collections::BTreeMap;

// The VPC and subnet facts data sources read (gantry-core's types).
pub use gantry_core::lookup_api::{Subnet, Vpc};

/// One spot price (`DescribeSpotPriceHistory`).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct SpotPrice {
    /// `availabilityZone`.
    pub(crate) availability_zone: String,
    /// `instanceType`.
    pub(crate) instance_type: String,
    /// `productDescription` (`Linux/UNIX`).
    pub(crate) product_description: String,
    /// `spotPrice`: USD per hour, as text.
    pub(crate) spot_price: String,
}

/// An item of a describe call's set, read from its child elements.
pub(crate) trait Item: Sized {
    /// Reads one `<item>`.
    fn read(item: &Element) -> Self;
}

/// The text of `item`'s child `name`, empty when absent.
fn text(item: &Element, name: &str) -> String {
    item.text_of(name).unwrap_or_default().to_string()
}

/// The `tagSet` of an item, key → value.
fn tags(item: &Element) -> BTreeMap<String, String> {
    item.entries("tagSet", "item").map(|t| (text(t, "key"), text(t, "value"))).collect()
}

impl Item for Vpc {
    fn read(i: &Element) -> Self {
        Vpc { id: text(i, "vpcId"), cidr_block: text(i, "cidrBlock"), is_default: text(i, "isDefault") == "true", owner_id: text(i, "ownerId"), tags: tags(i) }
    }
}

impl Item for Subnet {
    fn read(i: &Element) -> Self {
        Subnet {
            id: text(i, "subnetId"),
            vpc_id: text(i, "vpcId"),
            availability_zone: text(i, "availabilityZone"),
            cidr_block: text(i, "cidrBlock"),
            tags: tags(i),
        }
    }
}

impl Item for SpotPrice {
    fn read(i: &Element) -> Self {
        SpotPrice {
            availability_zone: text(i, "availabilityZone"),
            instance_type: text(i, "instanceType"),
            product_description: text(i, "productDescription"),
            spot_price: text(i, "spotPrice"),
        }
    }
}

/// The items of `set` in one page, and the next page's token (None on the
/// last page: absent or empty). Nested sets other than `tagSet` are not read.
pub(crate) fn read_page<T: Item>(xml: &str, set: &str) -> Result<(Vec<T>, Option<String>), CallError> {
    let doc = Element::parse(xml, &[set, "item", "tagSet"])?;
    let next = doc.text_of("nextToken").filter(|t| !t.is_empty()).map(String::from);
    Ok((doc.entries(set, "item").map(T::read).collect(), next))
}

#[cfg(test)]
mod tests {
    use super::*;

    // As the EC2 API Reference's DescribeSubnets example answers (trimmed),
    // with a nested set that must be skipped and a next token.
    const SUBNETS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeSubnetsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</requestId>
  <subnetSet>
    <item>
      <subnetId>subnet-9d4a7b6c</subnetId>
      <subnetArn>arn:aws:ec2:us-east-1:111122223333:subnet/subnet-9d4a7b6c</subnetArn>
      <state>available</state>
      <vpcId>vpc-1a2b3c4d</vpcId>
      <cidrBlock>10.0.1.0/24</cidrBlock>
      <ipv6CidrBlockAssociationSet>
        <item><ipv6CidrBlock>2001:db8:1234:1a00::/64</ipv6CidrBlock></item>
      </ipv6CidrBlockAssociationSet>
      <availableIpAddressCount>251</availableIpAddressCount>
      <availabilityZone>us-east-1a</availabilityZone>
      <defaultForAz>false</defaultForAz>
      <tagSet>
        <item><key>Name</key><value>ci &amp; runners</value></item>
        <item><key>tier</key><value/></item>
      </tagSet>
    </item>
  </subnetSet>
  <nextToken>eyJ2IjoiMiJ9</nextToken>
</DescribeSubnetsResponse>"#;

    #[test]
    fn a_page_of_subnets_reads_with_its_tags_and_next_token() {
        let (items, next) = read_page::<Subnet>(SUBNETS, "subnetSet").unwrap();
        assert_eq!(next.as_deref(), Some("eyJ2IjoiMiJ9"));
        assert_eq!(items.len(), 1, "the nested ipv6 item is not a subnet");
        let s = &items[0];
        assert_eq!(
            (s.id.as_str(), s.vpc_id.as_str(), s.availability_zone.as_str(), s.cidr_block.as_str()),
            ("subnet-9d4a7b6c", "vpc-1a2b3c4d", "us-east-1a", "10.0.1.0/24")
        );
        assert_eq!(s.tags.get("Name").map(String::as_str), Some("ci & runners"), "entities are unescaped");
        assert_eq!(s.tags.get("tier").map(String::as_str), Some(""));
    }

    #[test]
    fn vpcs_and_spot_prices_read_and_an_empty_next_token_ends_paging() {
        let vpcs = r#"<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId>
            <vpcSet><item><vpcId>vpc-1</vpcId><ownerId>111122223333</ownerId><state>available</state><cidrBlock>172.31.0.0/16</cidrBlock>
            <cidrBlockAssociationSet><item><cidrBlock>172.31.0.0/16</cidrBlock></item></cidrBlockAssociationSet><isDefault>true</isDefault></item></vpcSet>
            <nextToken/></DescribeVpcsResponse>"#;
        let (v, next) = read_page::<Vpc>(vpcs, "vpcSet").unwrap();
        assert_eq!(next, None);
        assert_eq!(
            v,
            vec![Vpc { id: "vpc-1".into(), cidr_block: "172.31.0.0/16".into(), is_default: true, owner_id: "111122223333".into(), tags: BTreeMap::new() }]
        );
        let spot = r#"<DescribeSpotPriceHistoryResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId>
            <spotPriceHistorySet><item><instanceType>g6e.xlarge</instanceType><productDescription>Linux/UNIX</productDescription>
            <spotPrice>0.740000</spotPrice><timestamp>2026-12-05T10:00:00.000Z</timestamp><availabilityZone>us-west-2a</availabilityZone></item></spotPriceHistorySet>
            <nextToken></nextToken></DescribeSpotPriceHistoryResponse>"#;
        let (p, next) = read_page::<SpotPrice>(spot, "spotPriceHistorySet").unwrap();
        assert_eq!(next, None);
        assert_eq!((p[0].availability_zone.as_str(), p[0].spot_price.as_str(), p[0].product_description.as_str()), ("us-west-2a", "0.740000", "Linux/UNIX"));
    }
}
