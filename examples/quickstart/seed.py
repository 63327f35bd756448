"""Creates the quick-start estate (main.tf) in moto and writes the state Terraform would write.

    seed.py ENDPOINT STATE_PATH            create the estate, write the state
    seed.py ENDPOINT STATE_PATH --drift    then make a console change: SSH opened to the world
    seed.py ENDPOINT STATE_PATH --console-fix    or a console fix: the web tier's open egress closed

Runs with the python of the virtualenv that holds moto (it brings boto3).
"""

import json
import sys

import boto3

REGION = "us-east-1"


def client(endpoint):
    return boto3.client("ec2", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def sg_block(proto, from_port, to_port, cidrs=(), groups=()):
    return {"cidr_blocks": list(cidrs), "description": "", "from_port": from_port,
            "ipv6_cidr_blocks": [], "prefix_list_ids": [], "protocol": proto,
            "security_groups": list(groups), "self": False, "to_port": to_port}


def acl_block(rule_no, action, proto, from_port, to_port, cidr):
    return {"action": action, "cidr_block": cidr, "from_port": from_port, "icmp_code": 0,
            "icmp_type": 0, "ipv6_cidr_block": "", "protocol": proto, "rule_no": rule_no,
            "to_port": to_port}


def resource(rtype, name, attributes):
    return {"mode": "managed", "type": rtype, "name": name,
            "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
            "instances": [{"schema_version": 1, "attributes": attributes, "sensitive_attributes": []}]}


def create(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]

    def group(name, tags):
        gid = ec2.create_security_group(GroupName=name, Description="Managed by Terraform", VpcId=vpc)["GroupId"]
        ec2.create_tags(Resources=[gid], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        # Terraform removes the default allow-all egress rule of a new group.
        ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        return gid

    web = group("web", {"Name": "web"})
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "HTTPS from anywhere"}]}])
    ec2.authorize_security_group_egress(GroupId=web, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])

    db_tags = {"Name": "db", "data-classification": "confidential"}
    db = group("db", db_tags)
    ec2.authorize_security_group_ingress(GroupId=db, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": web}]}])

    default = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]
    # aws_default_security_group with no blocks removes every rule.
    for perm in default["IpPermissionsEgress"]:
        ec2.revoke_security_group_egress(GroupId=default["GroupId"], IpPermissions=[perm])

    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="6", RuleAction="allow", Egress=False, CidrBlock="10.0.0.0/16", PortRange={"From": 5432, "To": 5432})
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=200, Protocol="6", RuleAction="deny", Egress=False, CidrBlock="0.0.0.0/0", PortRange={"From": 22, "To": 22})
    ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=100, Protocol="-1", RuleAction="allow", Egress=True, CidrBlock="10.0.0.0/16")

    account = "123456789012"  # moto's account

    def sg_attrs(gid, name, ingress, egress, tags):
        return {"arn": f"arn:aws:ec2:{REGION}:{account}:security-group/{gid}", "description": "Managed by Terraform",
                "egress": egress, "id": gid, "ingress": ingress, "name": name, "name_prefix": "",
                "owner_id": account, "revoke_rules_on_delete": False, "tags": tags, "tags_all": tags,
                "timeouts": None, "vpc_id": vpc}

    state = {
        "version": 4, "terraform_version": "1.9.8", "serial": 7, "lineage": "0f6c2d7e-quickstart",
        "outputs": {},
        "resources": [
            resource("aws_vpc", "main", {"arn": f"arn:aws:ec2:{REGION}:{account}:vpc/{vpc}", "cidr_block": "10.0.0.0/16", "id": vpc, "tags": {}, "tags_all": {}}),
            resource("aws_security_group", "web", sg_attrs(web, "web", [sg_block("tcp", 443, 443, ["0.0.0.0/0"]) | {"description": "HTTPS from anywhere"}], [sg_block("-1", 0, 0, ["0.0.0.0/0"])], {"Name": "web"})),
            # The provider's refreshed copy of the rule that the separate resource manages.
            resource("aws_security_group", "db", sg_attrs(db, "db", [sg_block("tcp", 5432, 5432, groups=[web])], [], db_tags)),
            resource("aws_vpc_security_group_ingress_rule", "db_from_web", {
                "arn": f"arn:aws:ec2:{REGION}:{account}:security-group-rule/sgr-0quickstart", "cidr_ipv4": None, "cidr_ipv6": None,
                "description": None, "from_port": 5432, "id": "sgr-0quickstart", "ip_protocol": "tcp", "prefix_list_id": None,
                "referenced_security_group_id": web, "security_group_id": db, "security_group_rule_id": "sgr-0quickstart",
                "tags": None, "tags_all": {}, "to_port": 5432}),
            resource("aws_default_security_group", "default", sg_attrs(default["GroupId"], "default", [], [], {})),
            resource("aws_network_acl", "private", {
                "arn": f"arn:aws:ec2:{REGION}:{account}:network-acl/{acl}", "id": acl, "owner_id": account,
                "ingress": [acl_block(100, "allow", "tcp", 5432, 5432, "10.0.0.0/16"), acl_block(200, "deny", "tcp", 22, 22, "0.0.0.0/0")],
                "egress": [acl_block(100, "allow", "-1", 0, 0, "10.0.0.0/16")],
                "subnet_ids": [], "tags": {}, "tags_all": {}, "vpc_id": vpc}),
        ],
        "check_results": None,
    }
    return state, web


def main():
    endpoint, state_path = sys.argv[1], sys.argv[2]
    ec2 = client(endpoint)
    state, web = create(ec2)
    with open(state_path, "w") as f:
        json.dump(state, f, indent=2)
    if "--drift" in sys.argv:
        # An engineer "just for a minute" opens SSH to the world in the console.
        ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "debug"}]}])
        print(f"console change: opened tcp/22 to 0.0.0.0/0 on {web}", file=sys.stderr)
    if "--console-fix" in sys.argv:
        # A security engineer closes the web tier's open egress in the console: a fix the code
        # does not know, which the next apply would revert.
        ec2.revoke_security_group_egress(GroupId=web, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        print(f"console fix: closed all egress to 0.0.0.0/0 on {web}", file=sys.stderr)


if __name__ == "__main__":
    main()
