"""What a file is: walking trees, inspecting files, rules, hash lists, tenants and upload policy."""
