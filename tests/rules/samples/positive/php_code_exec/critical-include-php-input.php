<?php include('php://input');
